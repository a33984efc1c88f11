"""Sphinx extension for the usaav book: paired notebooks, an execution cache that follows the library.

**Paired notebooks for the launch buttons.**  Chapters are MyST markdown
notebooks (``book/*.md`` with a jupytext header).  Colab can only open
``.ipynb`` files, so every chapter has a committed twin ``book/X.ipynb``
without outputs, excluded from the Sphinx build.  The twin is the chapter's
"book" edition of ``book/_ext/usaav_editions.py``: plain Markdown and HTML
that reads like the book in any Jupyter (numbered boxes, folded solutions,
links to the online book), the same code cells.  sphinx-book-theme points
its Binder and Colab buttons at ``X.ipynb`` whenever that file exists next
to ``X.md``.  At ``builder-inited`` this extension (re)writes any twin that
is missing or stale, so ``make book`` always leaves them in sync;
``tests/test_book.py`` checks the committed state.  The twin gets one extra
first cell, tagged ``remove-cell``, that only runs inside Google Colab: it
installs ``usaav`` with the extras every chapter needs (``plot``: figures
and explorers; ``experiments``: POT for the mean-field cells of chapters 2
and 6) from the repository and switches on Colab's custom widget manager,
which the explorers (anywidget) need.

Command line (from the repository root)::

    python book/_ext/usaav_book.py sync    # rewrite stale twins
    python book/_ext/usaav_book.py check   # exit 1 if any twin is stale

The explorers and the offline assets are book/_ext/usaav_web.py's.

**Re-execute when the library changed.**  ``execute_notebooks: cache``
keys each notebook on its code cells only, so after a change to
``usaav/`` the cache would serve outputs of the old code.  At
``builder-inited`` this extension computes
:func:`usaav.experiments.library_digest` (every source file of the
package, NumPy and SciPy versions) and clears the jupyter-cache when the
digest differs from the one stored in it (file ``usaav-library-digest``),
and makes Sphinx re-read every page when the digest differs from the one
of the last build (otherwise unchanged pages, and the API appendix's
docstrings, would keep their old rendering).
It also warns (an error under ``-W``) when the build imports a ``usaav``
other than this working tree's, whose notebooks would then show another
library's results.

Two small repairs of the generated pages: launch URLs lose the ``/./`` that
``path_to_book: "."`` puts in them, and duplicated inline scripts (sphinx-thebe
registers its configuration twice) are dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

BOOK_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = BOOK_DIR.parent
DEFAULT_REPOSITORY = "https://github.com/usaav-project/usaav"
DEFAULT_BRANCH = "main"

#: The extras of usaav the chapters import (tools/notebooks_check.py installs exactly these).
COLAB_EXTRAS = "plot,experiments"

COLAB_CELL = '''# @title Colab setup (installs usaav; does nothing elsewhere)
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "usaav[{extras}] @ git+{repository}@{branch}"],
        check=True,
    )
    # Colab's built-in widget manager serves ipywidgets 7 only; the explorers
    # (anywidget) need the custom widget manager.
    from google.colab import output

    output.enable_custom_widget_manager()'''


# --------------------------------------------------------------------------
# 1. Paired notebooks
# --------------------------------------------------------------------------


def is_notebook_source(path: Path) -> bool:
    """A MyST markdown notebook: starts with a front matter holding a kernelspec."""
    text = Path(path).read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    end = text.find("\n---", 3)
    return end > 0 and "kernelspec:" in text[:end]


def chapter_sources(book_dir: Path = BOOK_DIR) -> list[Path]:
    """Every MyST notebook of the book, sorted."""
    return sorted(p for p in Path(book_dir).glob("*.md") if is_notebook_source(p))


def paired_path(md_path: Path) -> Path:
    return Path(md_path).with_suffix(".ipynb")


def colab_cell_source(repository: str = DEFAULT_REPOSITORY, branch: str = DEFAULT_BRANCH) -> str:
    return COLAB_CELL.format(repository=repository, branch=branch, extras=COLAB_EXTRAS)


def _cell_id(index: int, source: str) -> str:
    return f"c{index:02d}-" + hashlib.sha1(source.encode("utf-8")).hexdigest()[:8]


def _editions():
    """book/_ext/usaav_editions.py (a sibling module: importable from Sphinx, the command line and the tests)."""
    ext = str(Path(__file__).resolve().parent)
    if ext not in sys.path:
        sys.path.insert(0, ext)
    import usaav_editions

    return usaav_editions


_BOOKS: dict = {}


def book_index(repository: str, root: Path = REPO_ROOT):
    """The book's labels and citations, read once per process and repository."""
    key = (repository, str(root))
    if key not in _BOOKS:
        _BOOKS[key] = _editions().Book.load(repository, root)
    return _BOOKS[key]


def notebook_json(nb) -> str:
    """A notebook as deterministic text: fixed cell ids, no outputs, sorted keys."""
    for index, cell in enumerate(nb.cells):
        cell["id"] = _cell_id(index, cell.source)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata["colab"] = {"provenance": []}
    nb.nbformat, nb.nbformat_minor = 4, 5
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def edition_notebook_text(md_path: Path, edition: str = "book", repository: str = DEFAULT_REPOSITORY,
                          branch: str = DEFAULT_BRANCH) -> str:
    """The chapter ``md_path`` as a notebook of ``edition`` (usaav_editions.EDITIONS), as text."""
    md_path = Path(md_path).resolve()
    book = book_index(repository, md_path.parents[1])
    nb = _editions().chapter_notebook(md_path, book, edition, setup_source=colab_cell_source(repository, branch))
    return notebook_json(nb)


def paired_notebook_text(md_path: Path, repository: str = DEFAULT_REPOSITORY,
                         branch: str = DEFAULT_BRANCH) -> str:
    """The ``.ipynb`` twin of a MyST notebook, as text: its "book" edition (deterministic: fixed cell ids, no outputs)."""
    return edition_notebook_text(md_path, "book", repository, branch)


def stale_notebooks(book_dir: Path = BOOK_DIR, **repo) -> list[Path]:
    """Chapters whose committed ``.ipynb`` twin is missing or out of date."""
    stale = []
    for md in chapter_sources(book_dir):
        twin = paired_path(md)
        if not twin.exists() or twin.read_text(encoding="utf-8") != paired_notebook_text(md, **repo):
            stale.append(md)
    return stale


def sync_notebooks(book_dir: Path = BOOK_DIR, **repo) -> list[Path]:
    """Rewrite every missing or stale twin; return the chapters that were rewritten."""
    stale = stale_notebooks(book_dir, **repo)
    for md in stale:
        # Write then rename: concurrent builds never see a half-written twin.
        twin = paired_path(md)
        partial = twin.with_name(f".{twin.name}.{os.getpid()}.tmp")
        partial.write_text(paired_notebook_text(md, **repo), encoding="utf-8")
        os.replace(partial, twin)
    return stale


def config_repository(config_path: Path = REPO_ROOT / "_config.yml") -> dict:
    """Repository URL and branch from the book's ``_config.yml`` (the launch buttons use the same)."""
    import yaml

    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8")) or {}
    repository = config.get("repository") or {}
    return {
        "repository": repository.get("url") or DEFAULT_REPOSITORY,
        "branch": repository.get("branch") or DEFAULT_BRANCH,
    }


def _repository(app) -> dict:
    options = app.config.html_theme_options or {}
    return {
        "repository": options.get("repository_url") or DEFAULT_REPOSITORY,
        "branch": options.get("repository_branch") or DEFAULT_BRANCH,
    }


def _sync_on_build(app) -> None:
    from sphinx.util import logging

    book_dir = Path(app.srcdir) / "book"
    if not book_dir.is_dir():
        return
    for md in sync_notebooks(book_dir, **_repository(app)):
        logging.getLogger(__name__).info(f"usaav_book: wrote paired notebook {paired_path(md).name}")


# --------------------------------------------------------------------------
# Repairs of the generated pages
# --------------------------------------------------------------------------


def _normalise_urls(node):
    """Drop ``/./`` from URLs (``path_to_book: "."`` makes sphinx-book-theme write ``main/./book``)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "url" and isinstance(value, str):
                node[key] = value.replace("/./", "/")
            else:
                _normalise_urls(value)
    elif isinstance(node, list):
        for item in node:
            _normalise_urls(item)


def _clean_launch_links(app, pagename, templatename, context, doctree) -> None:
    _normalise_urls(context.get("header_buttons", []))


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of identical script entries.

    sphinx-thebe registers its inline configuration once per read phase, so a
    rebuild can emit ``const THEBE_JS_URL = ...`` twice, and the second copy
    throws "Identifier has already been declared" in the browser console.
    """
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


# --------------------------------------------------------------------------
# The execution cache is keyed on the library too
# --------------------------------------------------------------------------

LIBRARY_DIGEST_FILE = "usaav-library-digest"


def refresh_execution_cache(cache_path: Path, digest: str) -> bool:
    """Clear the jupyter-cache at ``cache_path`` unless it was filled by the library with ``digest``.

    The digest is kept in ``cache_path/usaav-library-digest``; a cache without
    it (filled before this check existed) is cleared too.  Returns whether
    the cache was cleared.
    """
    cache_path = Path(cache_path)
    marker = cache_path / LIBRARY_DIGEST_FILE
    stored = marker.read_text(encoding="utf-8").strip() if marker.is_file() else None
    if stored == digest:
        return False
    cleared = False
    if cache_path.is_dir() and any(path.name != LIBRARY_DIGEST_FILE for path in cache_path.iterdir()):
        from jupyter_cache import get_cache

        get_cache(str(cache_path)).clear_cache()
        cleared = True
    cache_path.mkdir(parents=True, exist_ok=True)
    partial = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
    partial.write_text(digest + "\n", encoding="utf-8")
    os.replace(partial, marker)
    return cleared


def _refresh_cache_on_build(app) -> None:
    from sphinx.util import logging

    import usaav
    from usaav.experiments import library_digest

    logger = logging.getLogger(__name__)
    working_tree = Path(app.srcdir) / "usaav"
    imported = Path(usaav.__file__).resolve().parent
    if working_tree.is_dir() and imported != working_tree.resolve():
        logger.warning(f"usaav_book: the build imports usaav from {imported}, not from this working tree "
                       f"({working_tree}); install it editable: pip install -e .")
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache" or not config.execution_cache_path:
        return
    if refresh_execution_cache(Path(config.execution_cache_path), library_digest()):
        logger.info("usaav_book: usaav changed since the notebooks were executed: cleared the execution cache")


def _reread_when_library_changed(app, env, added, changed, removed) -> list[str]:
    """Every page is outdated when the library changed since the last build (Sphinx keeps ``env``)."""
    from usaav.experiments import library_digest

    digest = library_digest()
    if getattr(env, "usaav_library_digest", None) == digest:
        return []
    env.usaav_library_digest = digest
    return sorted(set(env.found_docs) - set(added) - set(changed))


def setup(app):
    app.connect("builder-inited", _sync_on_build)
    # after myst-nb has resolved its configuration (default priority 500), before any notebook runs
    app.connect("builder-inited", _refresh_cache_on_build, priority=600)
    app.connect("env-get-outdated", _reread_when_library_changed)
    # After sphinx-book-theme has built its launch buttons (default priority 500).
    app.connect("html-page-context", _clean_launch_links, priority=900)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    app.add_css_file("usaav.css")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("sync", "check"):
        print("usage: python book/_ext/usaav_book.py sync|check", file=sys.stderr)
        return 2
    repo = config_repository()
    if argv[0] == "sync":
        for md in sync_notebooks(**repo):
            print(f"wrote {paired_path(md).relative_to(REPO_ROOT)}")
        return 0
    stale = stale_notebooks(**repo)
    for md in stale:
        print(f"stale: {paired_path(md).relative_to(REPO_ROOT)} (run: python book/_ext/usaav_book.py sync)")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
