"""Run every page of the book that has code, top to bottom in a fresh kernel, without Sphinx.

Usage (from the repository root)::

    python tools/run_chapters.py [--twice] [book/01_introduction.md ...]

Each MyST notebook of the table of contents (``_toc.yml``) is read with
jupytext and executed with nbclient in a new kernel of this Python, in the
``book/`` folder (as the book build runs it). Cells tagged
``skip-execution`` (exercise templates) are left out, as the book build
leaves them out. Prints one line per page with its time and exits 1 if a
cell raised. With ``--twice`` every page is run top to bottom a second time
in the same kernel, as a reader pressing "Run All" again does: a page that
leaves state behind (a closed pool, a name reused for something else) fails
there.  ``make test-oldest`` runs it with the oldest versions the library
allows, where the book's own tooling (Jupyter Book) is not needed.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
#: Seconds per cell, as ``execute: timeout`` in _config.yml.
CELL_TIMEOUT = 120


def toc_pages(root: Path = ROOT) -> list[Path]:
    """The pages of ``_toc.yml`` in order, as paths of their ``.md`` sources."""
    text = (root / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"^\s*(?:-\s*file|root):\s*(\S+)", text, re.MULTILINE)
    return [root / f"{name}.md" for name in names]


def is_notebook(page: Path) -> bool:
    """A MyST notebook has a jupytext header (plain Markdown pages have no code to run)."""
    head = page.read_text(encoding="utf-8")[:400]
    return head.startswith("---") and "jupytext:" in head


def run_page(page: Path, rounds: int = 1) -> float:
    """Execute ``page`` in a fresh kernel, ``rounds`` times top to bottom in that kernel; return the seconds."""
    notebook = jupytext.read(page)
    notebook.cells = [cell for cell in notebook.cells
                      if "skip-execution" not in cell.get("metadata", {}).get("tags", [])]
    start = time.perf_counter()
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(page.parent)}})
    with client.setup_kernel():
        for _ in range(rounds):
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    rounds = 2 if "--twice" in argv else 1
    argv = [arg for arg in argv if arg != "--twice"]
    pages = [Path(arg).resolve() for arg in argv] or [page for page in toc_pages() if is_notebook(page)]
    failed = []
    for page in pages:
        try:
            seconds = run_page(page, rounds)
        except CellExecutionError as error:
            failed.append(page.name)
            print(f"FAILED {page.relative_to(ROOT)}\n{error}", flush=True)
        else:
            print(f"ok     {page.relative_to(ROOT)}  {seconds:6.1f} s", flush=True)
    print(f"{len(pages) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
