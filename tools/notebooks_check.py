"""Run the committed notebooks (book/*.ipynb, what Colab and Binder open) as Colab would: ``make notebooks-check``.

Usage (from the repository root)::

    python tools/notebooks_check.py [--env DIR] [book/04_prompts.ipynb ...]

A fresh virtual environment (``.venv/notebooks`` unless ``--env``) gets only
what a notebook's own set-up cell installs: the set-up cell's requirement
``usaav[EXTRAS] @ git+URL@BRANCH`` is read from the notebook and installed
from this checkout instead of the URL (``pip install .[EXTRAS]``, not
editable), plus the kernel and the runner Colab already has (``ipykernel``,
``nbclient``).  Each notebook is then executed top to bottom in a new kernel
of that environment, in an empty temporary folder (Colab has no checkout),
and a second time in the same kernel, as a reader pressing "Run All" again.
The set-up cell runs too (it does nothing outside Colab).  Prints one line
per notebook with its time and exits 1 if a cell raised.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Seconds per cell (as tools/run_chapters.py).
CELL_TIMEOUT = 300
#: What Colab provides besides the set-up cell: a kernel and a notebook runner.
RUNNER = ("ipykernel>=6.29,<7", "nbclient>=0.10")
_REQUIREMENT = re.compile(r'"usaav\[(?P<extras>[a-z,]+)\] @ git\+[^"]+"')


def setup_extras(notebook: Path) -> str:
    """The extras the notebook's set-up cell installs ("plot,experiments"); ValueError if there is none."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    first = "".join(nb["cells"][0]["source"]) if nb["cells"] else ""
    match = _REQUIREMENT.search(first)
    if not match:
        raise ValueError(f"{notebook}: the first cell installs no usaav[...] @ git+... (the Colab set-up cell)")
    return match.group("extras")


def make_environment(env: Path, extras: str) -> Path:
    """A fresh venv with ``usaav[extras]`` from this checkout and the runner; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(env)], check=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", f"{ROOT}[{extras}]", *RUNNER], check=True)
    return python


def execute_twice(notebook: Path) -> float:
    """Run ``notebook`` top to bottom twice in one fresh kernel, in an empty folder; return the seconds.

    Called inside the fresh environment (``--execute``).
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(notebook), as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="usaav-colab-") as folder:
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                resources={"metadata": {"path": folder}})
        with client.setup_kernel():
            for _ in range(2):
                for index, cell in enumerate(nb.cells):
                    if cell.cell_type == "code":
                        client.execute_cell(cell, index)
    return time.perf_counter() - start


def _execute_main(paths: list[str]) -> int:
    from nbclient.exceptions import CellExecutionError

    failed = 0
    for path in paths:
        try:
            seconds = execute_twice(Path(path))
        except CellExecutionError as error:
            failed += 1
            print(f"FAILED {path}\n{error}", flush=True)
        else:
            print(f"ok     {path}  twice in {seconds:6.1f} s", flush=True)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every book/*.ipynb")
    parser.add_argument("--env", default=str(ROOT / ".venv" / "notebooks"), help="the fresh environment's folder")
    parser.add_argument("--execute", action="store_true", help=argparse.SUPPRESS)  # inside the fresh environment
    args = parser.parse_args(argv)
    if args.execute:
        return _execute_main(args.notebooks)
    notebooks = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "book").glob("*.ipynb"))
    extras = {setup_extras(nb) for nb in notebooks}
    if len(extras) != 1:
        raise SystemExit(f"the notebooks' set-up cells install different extras: {sorted(extras)}")
    start = time.perf_counter()
    python = make_environment(Path(args.env), extras.pop())
    print(f"fresh environment {args.env} in {time.perf_counter() - start:.0f} s", flush=True)
    status = subprocess.run([str(python), __file__, "--execute", *map(str, notebooks)]).returncode
    print(f"notebooks-check: {len(notebooks)} notebooks, {time.perf_counter() - start:.0f} s in all", flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
