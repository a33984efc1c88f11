"""The explorer widget in a real JupyterLab or Notebook 7, and its state back in Python.

    make jupyterlab-check          # both front ends, JupyterLab from requirements-jupyter.txt
    python tests/browser/check_jupyterlab.py [--frontend lab|notebook] [PYTHON]

PYTHON is an environment with jupyterlab (and notebook), anywidget and usaav
installed (default: the one running this script; ``make jupyterlab-check``
makes one in .venv/jupyter).  The script starts the Jupyter server on
127.0.0.1 with a notebook that displays ``usaav.explorers.collapse``, opens
it in headless Chromium (requests outside 127.0.0.1 aborted), lets the
explorer play, presses pause, then runs a cell that reads
``explorer.state()`` and recomputes the collapse gap and the relative energy
gap with the library; they must agree with the numbers the widget prints,
and the page must log no console error.  Exit status 0 when they do.  Not
part of ``make test`` or CI: JupyterLab is large (see usaav/web/README.md).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import browser, open_page  # noqa: E402

CELLS = [
    "from usaav import explorers\nw = explorers.collapse(kernel='RoPE', n=32, beta=1.5)\nw",
    "import usaav\ns = w.state()\n"
    "print('STATE', s.t, usaav.collapse_gap(s.X), usaav.relative_energy_gap(s.kernel, s.X, s.aux), type(s.kernel).__name__)",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _number(text: str) -> float:
    """Parse a readout such as '2.76×10⁻²⁰' or '0.273'."""
    sup = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
    text = text.replace("−", "-")
    if "×10" in text:
        mantissa, exponent = text.split("×10")
        return float(mantissa) * 10 ** int(exponent.translate(sup))
    return float(text)


#: Server command and notebook URL of each front end.
FRONTENDS = {"lab": ("lab", "/lab/tree/check.ipynb"), "notebook": ("notebook", "/notebooks/check.ipynb")}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frontend", choices=sorted(FRONTENDS), default="lab")
    parser.add_argument("python", nargs="?", default=sys.executable, help="Python of the Jupyter environment")
    args = parser.parse_args(argv)
    python = args.python
    command, path = FRONTENDS[args.frontend]
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix=f"usaav-{args.frontend}-"))
    notebook = {"cells": [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
                          for c in CELLS],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (work / "check.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    port = _free_port()
    server = subprocess.Popen(
        [python, "-m", "jupyter", command, "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
         "--allow-root", f"--ServerApp.root_dir={work}",
         # no news or announcements fetched from the internet
         "--LabApp.news_url=", "--LabServerApp.announcements_url=", "--JupyterNotebookApp.news_url="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        with browser() as instance:
            page, log = open_page(instance, origin, width=1400, height=1000)
            page.goto(f"{origin}{path}", wait_until="load")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            # The kernel is up when its first cell can run: Shift+Enter queues it until then.
            page.wait_for_timeout(1500)
            page.locator(".jp-Cell .jp-InputArea-editor").first.click()
            page.keyboard.press("Shift+Enter")
            try:
                page.wait_for_selector(".usaav-x", timeout=180_000)  # a cold kernel imports NumPy, SciPy, anywidget
            except Exception:
                page.screenshot(path=str(work / "failed.png"))
                print(f"no explorer; screenshot {work / 'failed.png'}; console errors: {log.errors}; outside: {log.outside}")
                raise
            page.wait_for_timeout(2500)
            page.locator(".usaav-x-play").click()  # pause: the state goes to Python now
            page.wait_for_timeout(1000)
            readouts = {dd.get_attribute("data-key"): dd.inner_text()
                        for dd in page.locator(".usaav-x-readouts dd").all()}
            page.locator(".jp-Cell .jp-InputArea-editor").nth(1).click()
            page.keyboard.press("Shift+Enter")
            page.wait_for_selector("text=STATE", timeout=60_000)
            line = page.locator(".jp-OutputArea-output", has_text="STATE").inner_text()
            _, t, gap, energy, kernel = line.split()
            shown_t = float(re.match(r"[\d.]+", readouts["t"]).group(0))
            print(f"widget prints t = {readouts['t']}, Γ = {readouts['gap']}, energy gap = {readouts['energy']}")
            print(f"Python reads  t = {float(t):.4f}, Γ = {float(gap):.4e}, energy gap = {float(energy):.4e}, {kernel}")
            ok = (abs(float(t) - shown_t) < 0.01 and kernel == "RoPE"
                  and abs(float(gap) - _number(readouts["gap"])) <= 0.01 * abs(float(gap)) + 1e-15
                  and abs(float(energy) - _number(readouts["energy"])) <= 0.01 * abs(float(energy)) + 1e-15)
            outside = [u for u in log.outside]
            # Errors of the front end's own bundles are not the widget's (Notebook 7.6 logs one on an
            # empty notebook too); the widget's code runs from the module anywidget loads.
            own = [e for e in log.errors if f"{origin}/static/" in e]
            errors = [e for e in log.errors if e not in own]
            print("requests outside 127.0.0.1:", outside or "none")
            print("console errors:", errors or "none", f"(and {len(own)} of the front end's own)" if own else "")
            page.screenshot(path=str(work / f"{args.frontend}.png"))
            print(f"screenshot: {work / f'{args.frontend}.png'}")
            page.context.close()
        ok = ok and not errors
        print(f"{args.frontend}: {'AGREE' if ok else 'DISAGREE'} ({time.monotonic() - started:.0f} s)")
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
