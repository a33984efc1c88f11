"""Sphinx extension and command for the usaav book on phones and on paper.

1. **Stylesheets.**  ``_static/usaav-layout.css`` (all screens: display
   equations and wide tables scroll sideways with a shadow at the edge that
   hides more content; several figures of one cell output wrap, so they
   stand side by side on a wide screen and stack on a phone) and
   ``_static/usaav-print.css`` (paper: no navigation, controls or explorers;
   static figures kept whole on a page; proofs and solutions unfolded; each
   chapter on a new page).

2. **A single page for printing.**  ``jupyter-book build . --builder
   singlehtml`` puts the whole book on one page, and this extension copies
   it to ``_build/singlehtml/usaav-book.html``, where its links resolve.  sphinx-exercise registers
   its nodes for the ``singlehtml`` builder by name, and Sphinx then stops
   falling back to the ``html`` visitors of every other extension (myst-nb's
   hidden code cells fail with "unknown node type").  At ``builder-inited``
   this extension gives ``singlehtml`` every ``html`` visitor it lacks.

3. **The PDF** (command line, from the repository root; ``make pdf`` runs
   both steps)::

       jupyter-book build . --builder singlehtml -W --keep-going
       python book/_ext/usaav_print.py _build/singlehtml/usaav-book.html _build/pdf/usaav-book.pdf

   prints the single page with headless Chromium (Debian's ``chromium``;
   another binary through ``$CHROMIUM``), offline: every host but
   ``localhost`` is unreachable, and the virtual-time budget lets MathJax
   typeset every equation before the page is printed.  A first pass reads
   the page as Chromium rendered it and stops with an error if any equation
   is still raw TeX (what a page whose MathJax could not load looks like),
   so a PDF with broken mathematics is never written.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LAYOUT_CSS = "usaav-layout.css"
PRINT_CSS = "usaav-print.css"

#: The whole book on one page, at the root of the single-page build.
PRINT_PAGE = "usaav-book.html"

#: Virtual milliseconds Chromium lets the page run before printing: MathJax
#: typesets the whole book (about 1500 expressions) well within it.
VIRTUAL_TIME_BUDGET_MS = 120_000

#: Real seconds after which a hung Chromium is stopped.
CHROMIUM_TIMEOUT_S = 600

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _share_html_visitors(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node_name, visitors in handlers.get("html", {}).items():
        single.setdefault(node_name, visitors)


def _write_print_page(app, exception) -> None:
    """Copy the single page to the output root, where its relative links resolve.

    The single page is written as the root document, ``book/preface.html``,
    but its links to ``_static/`` and ``_images/`` are relative to the
    output root; its links to itself become plain ``#anchors``.
    """
    if exception is not None or app.builder.name != "singlehtml":
        return
    uri = app.config.root_doc + app.builder.out_suffix
    page = (Path(app.outdir) / uri).read_text(encoding="utf-8")
    (Path(app.outdir) / PRINT_PAGE).write_text(page.replace(f'href="{uri}#', 'href="#'), encoding="utf-8")


def setup(app):
    app.connect("builder-inited", _share_html_visitors)
    app.connect("build-finished", _write_print_page)
    app.add_css_file(LAYOUT_CSS)
    app.add_css_file(PRINT_CSS, media="print")
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------
# The PDF
# --------------------------------------------------------------------------


def find_chromium() -> str:
    """The Chromium binary: ``$CHROMIUM`` or the first of :data:`CHROMIUM_NAMES` on the PATH."""
    candidates = [os.environ["CHROMIUM"]] if os.environ.get("CHROMIUM") else list(CHROMIUM_NAMES)
    for name in candidates:
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError(
        f"no Chromium found (tried {', '.join(candidates)}); install it (Debian: apt-get install chromium) "
        "or set CHROMIUM to its path"
    )


def chromium_command(chromium: str, page: Path, profile: Path, action: list[str]) -> list[str]:
    """Headless Chromium on ``page``, offline, after MathJax has had its time; ``action`` says what to output."""
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        f"--user-data-dir={profile}",
        # Offline: no page of the book may depend on the network.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
        "--run-all-compositor-stages-before-draw",
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        *action,
        page.resolve().as_uri(),
    ]


_MATH = re.compile(r'<(span|div) class="math notranslate nohighlight"[^>]*>(.*?)</\1>', re.S)


def untypeset_math(rendered_html: str) -> tuple[int, list[str]]:
    """Number of math elements in a rendered page, and the TeX of those MathJax left untypeset."""
    elements = _MATH.findall(rendered_html)
    raw = [re.sub(r"\s+", " ", body).strip()[:80] for _, body in elements if "<mjx-container" not in body]
    return len(elements), raw


def external_resources(page_html: str) -> list[str]:
    """URLs of scripts and stylesheets a page loads from the network (none may be needed)."""
    urls = set()
    for tag in re.findall(r"<script\b[^>]*>|<link\b[^>]*>", page_html):
        url = re.search(r'(?:src|href)="(https?://[^"]+)"', tag)
        if url and (tag.startswith("<script") or "stylesheet" in tag):
            urls.add(url.group(1))
    return sorted(urls)


def pdf_page_count(data: bytes) -> int:
    """Number of pages of a PDF (its ``/Type /Page`` objects)."""
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))


def print_pdf(page: Path, pdf: Path) -> int:
    """Print ``page`` to ``pdf``; return the number of pages."""
    page, pdf = Path(page), Path(pdf)
    if not page.is_file():
        raise FileNotFoundError(f"{page} not found: build it first (jupyter-book build . --builder singlehtml)")
    for url in external_resources(page.read_text(encoding="utf-8")):
        print(f"note: the page loads {url} from the network; the PDF is printed offline without it",
              file=sys.stderr)
    pdf.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf.with_name(f".{pdf.name}.{os.getpid()}.tmp")
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="usaav-chromium-") as profile:
        rendered = _run(chromium_command(chromium, page, Path(profile), ["--dump-dom"]))
        total, raw = untypeset_math(rendered.stdout)
        if raw:
            raise RuntimeError(
                f"MathJax left {len(raw)} of {total} equations untypeset (first: {raw[0]!r}); "
                "the book must serve MathJax itself (no network while printing)")
        _run(chromium_command(chromium, page, Path(profile), ["--no-pdf-header-footer", f"--print-to-pdf={partial}"]))
    if not partial.is_file() or not partial.read_bytes().startswith(b"%PDF"):
        partial.unlink(missing_ok=True)
        raise RuntimeError("Chromium did not write a PDF")
    data = partial.read_bytes()
    os.replace(partial, pdf)
    return pdf_page_count(data)


def _run(command: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
    if result.returncode != 0:
        raise RuntimeError(f"Chromium failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python book/_ext/usaav_print.py PAGE.html OUT.pdf", file=sys.stderr)
        return 2
    try:
        pages = print_pdf(Path(argv[0]), Path(argv[1]))
    except (FileNotFoundError, RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    size = Path(argv[1]).stat().st_size / 2**20
    print(f"wrote {argv[1]} ({pages} pages, {size:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
