"""Screenshots of the built book as a reader sees it (1400 px and 400 px wide).

    python tests/browser/screenshots.py OUT_DIR [page ...]

Writes, per page and width, the whole page and each explorer after it has
run for a moment, with the network cut as in the tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import book_pages, browser, missing_requirements, open_page, serve, wait_for_math  # noqa: E402


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    reason = missing_requirements()
    if reason:
        print(f"cannot take screenshots: {reason}")
        return 1
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    pages = argv[1:] or book_pages()
    with serve() as origin, browser() as instance:
        for page_path in pages:
            for width in (1400, 400):
                page, log = open_page(instance, origin, width=width, height=900)
                page.goto(f"{origin}/{page_path}", wait_until="load")
                wait_for_math(page)
                stem = page_path.replace("/", "_").removesuffix(".html")
                roots = page.locator(".usaav-x")
                for k in range(roots.count()):
                    roots.nth(k).scroll_into_view_if_needed()
                    page.wait_for_timeout(2500)
                    roots.nth(k).screenshot(path=str(out / f"{stem}-{width}-explorer{k}.png"))
                page.screenshot(path=str(out / f"{stem}-{width}.png"), full_page=True)
                for problem in log.problems():
                    print(f"{page_path} @ {width}px: {problem}")
                page.context.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
