"""Book infrastructure: paired notebooks for Colab/Binder and the launch links.

Every chapter is a MyST markdown notebook ``book/X.md``; its committed twin
``book/X.ipynb`` (what Binder and Colab open) must hold the same cells, plus
one Colab-only setup cell in front.  Regenerate stale twins with
``python book/_ext/usaav_book.py sync`` (a book build does it too).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

if not (BOOK / "_ext" / "usaav_book.py").is_file():
    pytest.skip("the book is not in this source tree (a source distribution carries the library and its "
                "tests only)", allow_module_level=True)
jupytext = pytest.importorskip("jupytext", reason="needs the book's tools: pip install 'usaav[book]'")
yaml = pytest.importorskip("yaml", reason="needs the book's tools: pip install 'usaav[book]'")


def _load_book_extension():
    spec = importlib.util.spec_from_file_location("usaav_book", BOOK / "_ext" / "usaav_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


book_ext = _load_book_extension()
CHAPTERS = book_ext.chapter_sources(BOOK)
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _cells(nb):
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def test_there_are_chapters_to_pair():
    assert len(CHAPTERS) >= 2


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_twin_notebook_is_up_to_date(md):
    twin = md.with_suffix(".ipynb")
    assert twin.exists(), f"{twin.name} missing: run python book/_ext/usaav_book.py sync"
    expected = book_ext.paired_notebook_text(md, **book_ext.config_repository(ROOT / "_config.yml"))
    assert twin.read_text(encoding="utf-8") == expected, (
        f"{twin.name} is stale: run python book/_ext/usaav_book.py sync"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_twin_holds_the_chapter_cells_and_round_trips(md):
    source_cells = _cells(jupytext.read(md))
    twin = jupytext.read(md.with_suffix(".ipynb"))
    assert _cells(twin)[1:] == source_cells
    # Round trip: the twin (without its setup cell) written back as MyST gives the same cells.
    twin.cells = twin.cells[1:]
    back = jupytext.reads(jupytext.writes(twin, fmt="md:myst"), fmt="md:myst")
    assert _cells(back) == source_cells


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_twin_has_no_outputs_and_a_colab_only_setup_cell(md):
    nb = json.loads(md.with_suffix(".ipynb").read_text(encoding="utf-8"))
    setup = nb["cells"][0]
    assert setup["cell_type"] == "code"
    assert "remove-cell" in setup["metadata"]["tags"]
    text = "".join(setup["source"])
    assert 'if "google.colab" in sys.modules:' in text
    assert f"git+{CONFIG['repository']['url']}@{CONFIG['repository']['branch']}" in text
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_twins_are_excluded_from_the_sphinx_build():
    assert "book/*.ipynb" in CONFIG["exclude_patterns"]


def test_every_notebook_in_the_toc_has_a_launch_target():
    """sphinx-book-theme links Binder/Colab to X.ipynb when it exists next to X.md."""
    notebooks = [BOOK.parent / f"{name}.md" for name in _toc_files()]
    notebooks = [p for p in notebooks if p.exists() and book_ext.is_notebook_source(p)]
    assert notebooks, "no notebook chapters found in _toc.yml"
    for md in notebooks:
        assert md.with_suffix(".ipynb").exists(), f"launch target {md.with_suffix('.ipynb').name} missing"


def test_launch_buttons_are_configured():
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")


def _built_pages():
    html = ROOT / "_build" / "html" / "book"
    return sorted(html.glob("*.html")) if html.is_dir() else []


@pytest.mark.skipif(not _built_pages(), reason="book not built (run make book)")
def test_built_launch_links_point_at_existing_notebooks():
    repo = CONFIG["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    patterns = [
        re.compile(rf'href="https://colab\.research\.google\.com/github/{repo}/blob/{branch}/([^"]+)"'),
        re.compile(rf'href="https://mybinder\.org/v2/gh/{repo}/{branch}\?urlpath=(?:lab/)?tree/([^"]+)"'),
    ]
    found = 0
    for page in _built_pages():
        text = page.read_text(encoding="utf-8")
        for pattern in patterns:
            for target in pattern.findall(text):
                found += 1
                assert target.endswith(".ipynb"), f"{page.name}: launch link to {target} (Colab needs .ipynb)"
                assert "/./" not in target and not target.startswith("./"), f"{page.name}: {target}"
                assert (ROOT / target).exists(), f"{page.name}: launch target {target} does not exist"
    assert found > 0


# --------------------------------------------------------------------------
# The execution cache follows the library; the kernel runs this working tree
# --------------------------------------------------------------------------


def _cache_with_one_notebook(cache_path):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    import nbformat

    cell = nbformat.v4.new_code_cell("usaav.collapse_gap(X)", execution_count=1,
                                     outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "0.5"},
                                                                     execution_count=1)])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    get_cache(str(cache_path)).cache_notebook_bundle(CacheBundleIn(notebook, "chapter.ipynb"),
                                                     check_validity=False)


def _cached_notebooks(cache_path):
    from jupyter_cache import get_cache

    return len(get_cache(str(cache_path)).list_cache_records())


def test_cached_outputs_are_kept_while_the_library_digest_is_unchanged(tmp_path):
    pytest.importorskip("jupyter_cache")
    cache = tmp_path / ".jupyter_cache"
    assert book_ext.refresh_execution_cache(cache, "digest-a") is False  # a new cache
    _cache_with_one_notebook(cache)
    assert book_ext.refresh_execution_cache(cache, "digest-a") is False
    assert _cached_notebooks(cache) == 1


def test_cached_outputs_are_dropped_when_the_library_digest_changes(tmp_path):
    pytest.importorskip("jupyter_cache")
    cache = tmp_path / ".jupyter_cache"
    book_ext.refresh_execution_cache(cache, "digest-a")
    _cache_with_one_notebook(cache)
    assert book_ext.refresh_execution_cache(cache, "digest-b") is True
    assert _cached_notebooks(cache) == 0
    assert (cache / book_ext.LIBRARY_DIGEST_FILE).read_text().strip() == "digest-b"


def test_a_cache_from_before_the_digest_is_dropped(tmp_path):
    pytest.importorskip("jupyter_cache")
    cache = tmp_path / ".jupyter_cache"
    _cache_with_one_notebook(cache)
    assert book_ext.refresh_execution_cache(cache, "digest-a") is True
    assert _cached_notebooks(cache) == 0


def test_the_book_build_keys_its_cache_on_the_library_digest(tmp_path):
    """The builder-inited hook, as Sphinx calls it: the stored digest is usaav.experiments.library_digest()."""
    pytest.importorskip("jupyter_cache")
    pytest.importorskip("sphinx")
    from types import SimpleNamespace

    from usaav.experiments import library_digest

    cache = tmp_path / ".jupyter_cache"
    book_ext.refresh_execution_cache(cache, "digest-of-an-older-library")
    _cache_with_one_notebook(cache)
    config = SimpleNamespace(execution_mode="cache", execution_cache_path=str(cache))
    app = SimpleNamespace(srcdir=str(ROOT), env=SimpleNamespace(mystnb_config=config))
    book_ext._refresh_cache_on_build(app)
    assert _cached_notebooks(cache) == 0
    assert (cache / book_ext.LIBRARY_DIGEST_FILE).read_text().strip() == library_digest()
    _cache_with_one_notebook(cache)
    book_ext._refresh_cache_on_build(app)
    assert _cached_notebooks(cache) == 1


def test_every_page_is_reread_once_after_the_library_changed():
    """Sphinx re-reads only changed sources; a new library digest makes every page outdated, once."""
    from types import SimpleNamespace

    from usaav.experiments import library_digest

    env = SimpleNamespace(found_docs={"book/a", "book/b", "book/c"}, usaav_library_digest="older")
    assert book_ext._reread_when_library_changed(None, env, {"book/c"}, set(), set()) == ["book/a", "book/b"]
    assert env.usaav_library_digest == library_digest()
    assert book_ext._reread_when_library_changed(None, env, set(), set(), set()) == []


def test_the_book_kernel_runs_this_working_tree():
    """The chapters' kernel, started where the book runs them, imports usaav from this repository."""
    jupyter_client = pytest.importorskip("jupyter_client")
    kernel_name = jupytext.read(CHAPTERS[0]).metadata["kernelspec"]["name"]
    printed = []

    def keep_stdout(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    manager, client = jupyter_client.manager.start_new_kernel(kernel_name=kernel_name, cwd=str(BOOK))
    try:
        reply = client.execute_interactive("import usaav; print(usaav.__file__)", timeout=60,
                                           output_hook=keep_stdout)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok"
    assert Path("".join(printed).strip()).resolve() == (ROOT / "usaav" / "__init__.py").resolve()
