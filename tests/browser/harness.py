"""Headless Chromium on the built book, with the network cut.

Shared by tests/browser (correctness) and benchmarks/bench_explorers.py
(latency, frames per second, page weight).  The built book is served from a
local HTTP server; every request to anything else is aborted and recorded, so
a page that reaches for a CDN fails the tests.

Chromium is the system's (``/usr/bin/chromium``, or ``$USAAV_CHROMIUM``);
Playwright never downloads a browser here.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILT_BOOK = ROOT / "_build" / "html"

#: Flags: headless, no sandbox (containers), no GPU, and no background traffic
#: of Chromium's own (updates, sync, field trials, safe browsing...).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-client-side-phishing-detection",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
)


def chromium_path() -> str | None:
    candidate = os.environ.get("USAAV_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return candidate if candidate and Path(candidate).exists() else None


def missing_requirements(book: Path = BUILT_BOOK) -> str | None:
    """Why the browser checks cannot run here, or None."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    if chromium_path() is None:
        where = os.environ.get("USAAV_CHROMIUM") or "/usr/bin/chromium"
        return f"no Chromium at {where} (apt-get install chromium, or set USAAV_CHROMIUM)"
    if not (book / "index.html").is_file():
        return f"no built book in {book} (run make book first)"
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(directory: Path = BUILT_BOOK):
    """Serve ``directory`` on 127.0.0.1 (a free port); yields the origin, e.g. http://127.0.0.1:41234."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PageLog:
    """What one page did: blocked outside requests, failed or 4xx/5xx requests, console errors."""

    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return ([f"request outside the book: {u}" for u in self.outside] + [f"failed request: {u}" for u in self.failed]
                + [f"console error: {e}" for e in self.errors])


@contextlib.contextmanager
def browser():
    """A headless Chromium (Playwright, system binary)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))
        try:
            yield instance
        finally:
            instance.close()


def _where(error) -> str:
    """The script position an uncaught error came from (its stack's first frame), to tell ours from others'."""
    frames = [line.strip() for line in (getattr(error, "stack", "") or "").splitlines() if line.strip().startswith("at ")]
    return f" ({frames[0]})" if frames else ""


def open_page(instance, origin: str, *, width: int = 1400, height: int = 900, reduced_motion: bool = False,
              device_scale_factor: float = 1, has_touch: bool = False, javascript: bool = True,
              block: tuple[str, ...] = ()):
    """A new page in its own context, with every request outside ``origin`` aborted and logged.

    ``block`` lists path endings of the book's own files to abort as well
    (a module that fails to load); those are recorded in ``log.blocked``,
    not as problems.  Returns ``(page, log)``.
    """
    context = instance.new_context(viewport={"width": width, "height": height},
                                   reduced_motion="reduce" if reduced_motion else "no-preference",
                                   device_scale_factor=device_scale_factor, has_touch=has_touch,
                                   java_script_enabled=javascript, service_workers="block")
    log = PageLog()

    def route(route_):
        url = route_.request.url
        if url.startswith(origin + "/") or url == origin:
            if any(url.split("?")[0].endswith(ending) for ending in block):
                log.blocked.append(url)
                route_.abort("blockedbyclient")
            else:
                route_.continue_()
        else:
            log.outside.append(url)
            route_.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda message: log.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: log.errors.append(f"uncaught: {error}" + _where(error)))
    page.on("requestfailed", lambda request: None if request.url in log.outside or request.url in log.blocked else
            log.failed.append(f"{request.url} ({request.failure})"))
    page.on("response", lambda response: log.failed.append(f"{response.url} ({response.status})")
            if response.status >= 400 else None)
    return page, log


def book_pages(book: Path = BUILT_BOOK) -> list[str]:
    """Every page of the book (relative URLs), from the built tree, search and index pages aside."""
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    pages = [p for p in book.rglob("*.html")
             if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts]
    # The root index.html of a Jupyter Book only redirects to the first page.
    return sorted(str(p.relative_to(book)) for p in pages
                  if not p.read_text(encoding="utf-8").lstrip().startswith('<meta http-equiv="Refresh"'))


def wait_for_math(page, timeout_ms: int = 120000) -> int:
    """Wait until MathJax has typeset the page; returns the number of typeset formulas."""
    page.wait_for_function("() => !document.querySelector('.math') || document.querySelector('mjx-container')",
                           timeout=timeout_ms)
    # Bounded: a MathJax that never finishes (a worker refused on file://) fails here instead of hanging.
    page.evaluate("""async (ms) => {
      if (!window.MathJax?.startup?.promise) return;
      const late = new Promise((_, reject) => setTimeout(() => reject(new Error(`MathJax did not finish typesetting within ${ms} ms`)), ms));
      await Promise.race([window.MathJax.startup.promise, late]);
    }""", timeout_ms)
    return page.locator("mjx-container").count()


# JS run in the page: an FNV-1a hash of every canvas of an explorer, and its readouts.
PICTURE_JS = """(root) => {
  let h = 2166136261 >>> 0;
  for (const canvas of root.querySelectorAll('canvas')) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      h ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
      h = Math.imul(h, 16777619) >>> 0;
    }
  }
  const readouts = {};
  for (const dd of root.querySelectorAll('.usaav-x-readouts dd')) readouts[dd.dataset.key] = dd.textContent;
  return { hash: h, readouts };
}"""
