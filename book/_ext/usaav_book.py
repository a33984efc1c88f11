"""Sphinx extension for the usaav book: paired notebooks for Colab and Binder.

**Paired notebooks for the launch buttons.**  Chapters are MyST markdown
notebooks (``book/*.md`` with a jupytext header).  Colab can only open
``.ipynb`` files, so every chapter has a committed twin ``book/X.ipynb``
without outputs, excluded from the Sphinx build.  sphinx-book-theme points
its Binder and Colab buttons at ``X.ipynb`` whenever that file exists next
to ``X.md``.  At ``builder-inited`` this extension (re)writes any twin that
is missing or stale, so ``make book`` always leaves them in sync;
``tests/test_book.py`` checks the committed state.  The twin gets one extra
first cell, tagged ``remove-cell``, that only runs inside Google Colab: it
installs ``usaav`` from the repository and switches on Colab's custom widget
manager, which the explorers (anywidget) need.

Command line (from the repository root)::

    python book/_ext/usaav_book.py sync    # rewrite stale twins
    python book/_ext/usaav_book.py check   # exit 1 if any twin is stale

The explorers and the offline assets are book/_ext/usaav_web.py's.

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

COLAB_CELL = '''# @title Colab setup (installs usaav; does nothing elsewhere)
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "usaav[plot] @ git+{repository}@{branch}"],
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
    return COLAB_CELL.format(repository=repository, branch=branch)


def _cell_id(index: int, source: str) -> str:
    return f"c{index:02d}-" + hashlib.sha1(source.encode("utf-8")).hexdigest()[:8]


def paired_notebook_text(md_path: Path, repository: str = DEFAULT_REPOSITORY,
                         branch: str = DEFAULT_BRANCH) -> str:
    """The ``.ipynb`` twin of a MyST notebook, as text (deterministic: fixed cell ids, no outputs)."""
    import jupytext
    import nbformat

    nb = jupytext.read(md_path)
    setup = nbformat.v4.new_code_cell(
        colab_cell_source(repository, branch),
        metadata={"tags": ["remove-cell"], "cellView": "form"},
    )
    nb.cells.insert(0, setup)
    for index, cell in enumerate(nb.cells):
        cell["id"] = _cell_id(index, cell.source)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("jupytext", None)
    nb.metadata["colab"] = {"provenance": []}
    nb.nbformat, nb.nbformat_minor = 4, 5
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


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


def setup(app):
    app.connect("builder-inited", _sync_on_build)
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
