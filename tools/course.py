"""The course kit, made from the MyST chapters: ``make course`` writes ``_build/course/``.

Usage (from the repository root, after ``make book``)::

    python tools/course.py [--out _build/course] [--no-pdf]

For every numbered chapter ``book/NN_<name>.md`` of ``_toc.yml``:

- ``student/NN_<name>.ipynb``: the chapter as a notebook for plain Jupyter
  and Colab without any solution; each coding exercise is a cell with the
  blank and a check cell after it (book/_ext/usaav_editions.py, "student");
- ``solutions/NN_<name>.ipynb``: the same with the solutions (the "book"
  edition that the launch buttons open);
- ``slides/NN_<name>.html``: a reveal.js deck (npm ``reveal.js``, copied
  next to the decks with MathJax, so it works offline from ``file://``):
  the chapter's goals, its numbered statements, its figures as the book
  shows them, its explorers and its summary.  Explorers are live when the
  library offers ``usaav.explorers.classic_bundle()`` (a classic script that
  mounts every placeholder); without it the deck says so where the explorer
  would be;
- ``pdf/NN_<name>.pdf`` and ``pdf/NN_<name>-solutions.pdf``: the two
  notebooks with the outputs of the book's own run (``_build/jupyter_execute``),
  as HTML printed by headless Chromium; explorers are replaced by a line
  saying where to run them;
- ``pdf/usaav-book.pdf``: every chapter and the numerics appendix in one
  PDF (the student edition: no solutions; no API reference), each chapter
  starting on a new page.

Figures and outputs come from the last ``make book``; the tool refuses to
run without it.
"""

from __future__ import annotations

import argparse
import ast
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "book" / "_ext"
if str(EXT) not in sys.path:
    sys.path.insert(0, str(EXT))

import usaav_book  # noqa: E402
import usaav_editions  # noqa: E402

#: A statement longer than this (characters of Markdown) is set smaller on its slide.
LONG_STATEMENT = 700
#: Chromium processes printing at once (each mostly uses one core).
PRINT_WORKERS = 2
#: The statements a deck shows, one slide each.
KEY_KINDS = ("definition", "theorem", "proposition", "corollary", "lemma")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.DOTALL)
_EXPLORER_CALL = re.compile(r"^explorers\.(?P<name>[a-z_]+)\(", re.MULTILINE)


def chapters(root: Path = ROOT) -> list[Path]:
    """The numbered chapters of ``_toc.yml`` (``book/NN_<name>.md``), in order."""
    return [root / f"{doc}.md" for doc, number in usaav_editions.toc_pages(root) if number is not None]


# --------------------------------------------------------------------------
# Markdown (with math) to HTML
# --------------------------------------------------------------------------


def markdown_html(text: str, inline: bool = False) -> str:
    """CommonMark to HTML, math left exactly as written for MathJax ($…$ and $$…$$ are kept out of the parser).

    ``inline``: one line of text, without the paragraph around it.
    """
    from markdown_it import MarkdownIt

    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"MATHPLACEHOLDER{len(kept) - 1}X"

    protected = _MATH.sub(keep, text)
    parser = MarkdownIt("commonmark").enable("table")
    rendered = parser.renderInline(protected) if inline else parser.render(protected)
    return re.sub(r"MATHPLACEHOLDER(\d+)X", lambda m: html.escape(kept[int(m.group(1))], quote=False), rendered)


# --------------------------------------------------------------------------
# Slides
# --------------------------------------------------------------------------


def _executed(md: Path, executed_dir: Path) -> dict[str, list]:
    """{code cell source: its outputs} from the book's own run of the chapter."""
    path = executed_dir / "book" / f"{md.stem}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: build the book first (make book)")
    nb = json.loads(path.read_text(encoding="utf-8"))
    return {"".join(cell["source"]).strip(): cell.get("outputs", []) for cell in nb["cells"]
            if cell["cell_type"] == "code"}


def _output_html(outputs: list) -> str:
    for output in outputs:
        data = output.get("data", {})
        if "text/html" in data:
            return "".join(data["text/html"])
        if "image/png" in data:
            return f'<img alt="" src="data:image/png;base64,{"".join(data["image/png"]).strip()}">'
    return ""


def _section_lines(text: str, heading: str) -> list[str]:
    """The lines of the ``## heading`` section of ``text`` up to the next heading."""
    lines, out, inside = text.splitlines(), [], False
    for line in lines:
        if re.match(r"^#{1,6}\s", line):
            if inside:
                break
            inside = line.strip("# ").strip() == heading
            continue
        if inside:
            out.append(line)
    return out


def deck_slides(md: Path, book, executed_dir: Path) -> list[str]:
    """The ``<section>`` elements of the chapter's deck, in the order of the chapter."""
    import jupytext

    here = f"book/{md.stem}"
    source = jupytext.reads(md.read_text(encoding="utf-8"), fmt="md:myst")
    outputs = _executed(md, executed_dir)
    title = book.titles[here]
    number = dict(usaav_editions.toc_pages(md.parents[1]))[here]
    goals = ""
    whole = md.read_text(encoding="utf-8")
    about = re.search(r"\*\*After this chapter you can\*\*\n(.*?)\n\n\*\*", whole, re.DOTALL)
    if about:
        goals = markdown_html(usaav_editions.render_markdown(about.group(1), book, here))
    slides = [f'<section><h1>{number}. {html.escape(title)}</h1>'
              f'<p class="usaav-deck-link"><a href="{book.url(here)}">the chapter in the online book</a></p>'
              + (f"<h3>After this chapter you can</h3>{goals}" if goals else "") + "</section>"]
    for cell in source.cells:
        if cell.cell_type == "markdown":
            for name, arg, options, body in usaav_editions.directives(cell.source):
                kind = name.split(":", 1)[1] if name.startswith("prf:") else ""
                if kind not in KEY_KINDS:
                    continue
                target = book.labels.get(options.get("label"))
                heading = target.text if target else kind.capitalize()
                statement = usaav_editions.render_markdown("\n".join(body), book, here)
                arg = usaav_editions.render_roles(arg, book, here)
                size = " usaav-long" if len(statement) > LONG_STATEMENT else ""
                slides.append(f'<section class="usaav-statement{size}"><h3>{heading}</h3>'
                              f'<p class="usaav-statement-title">{markdown_html(arg, inline=True)}</p>'
                              f"{markdown_html(statement)}</section>")
            continue
        code = cell.source.strip()
        figure = ((cell.metadata.get("mystnb") or {}).get("figure") or {})
        explorer = _EXPLORER_CALL.search(code)
        if figure:
            target = book.labels.get(figure.get("name"))
            caption = usaav_editions.render_roles(" ".join(str(figure.get("caption", "")).split()), book, here)
            slides.append(f'<section class="usaav-figure">{_output_html(outputs.get(code, []))}'
                          f"<p class=\"usaav-caption\"><b>{target.text if target else 'Figure'}.</b> "
                          f"{markdown_html(caption, inline=True)}</p></section>")
        elif explorer:
            placeholder = _output_html(outputs.get(code, []))
            slides.append(f'<section class="usaav-explorer-slide"><h3>Explorer: <code>explorers.'
                          f'{explorer.group("name")}</code></h3>{placeholder}</section>')
    summary = _section_lines(whole, "Summary")
    if summary:
        text = usaav_editions.render_markdown("\n".join(summary), book, here)
        slides.append(f"<section><h2>Summary</h2>{markdown_html(text)}</section>")
    return slides


def classic_bundle() -> str | None:
    """The explorers as one classic script (``usaav.explorers.classic_bundle``), or None when the library has none."""
    from usaav import explorers

    make = getattr(explorers, "classic_bundle", None)
    return make() if callable(make) else None


DECK = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="assets/reveal/reveal.css">
<link rel="stylesheet" href="assets/reveal/theme/white.css">
<style>
.reveal {{ font-size: 28px; }}
.reveal section {{ text-align: left; }}
.reveal h1, .reveal h2, .reveal h3 {{ text-transform: none; }}
.reveal .usaav-statement-title {{ font-style: italic; margin-top: -0.4em; }}
.reveal .slides section {{ max-height: 800px; overflow-y: auto; }}
.reveal .slides section.usaav-long {{ font-size: 0.72em; }}
.reveal .usaav-caption {{ font-size: 0.6em; }}
.reveal .usaav-panels img, .reveal section img {{ max-height: 60vh; max-width: 100%; }}
.reveal .usaav-explorer-note {{ font-size: 0.6em; color: #555; }}
.reveal .usaav-deck-link {{ font-size: 0.6em; }}
</style>
<script>window.MathJax = {{ tex: {{ inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]] }}, svg: {{ fontCache: "global" }} }};</script>
<script src="assets/mathjax/tex-svg.js"></script>
</head><body>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script src="assets/reveal/reveal.js"></script>
{explorers}
<script>
Reveal.initialize({{ hash: true, center: false, width: 1280, height: 800, margin: 0.04 }}).then(function () {{
  if (window.usaavExplorers && window.usaavExplorers.mountPlaceholders) {{
    window.usaavExplorers.mountPlaceholders(document.querySelector(".reveal"));
  }}
}});
</script>
</body></html>
"""

NO_LIVE_EXPLORERS = ('<p class="usaav-explorer-note">This deck was made with a library that has no '
                     "<code>usaav.explorers.classic_bundle()</code>, so the explorer is not live here: open it in "
                     "the chapter's notebook or in the online book.</p>")


def _mathjax_file(root: Path = ROOT) -> Path:
    for candidate in ("node_modules/mathjax/es5/tex-svg.js", "node_modules/mathjax/tex-svg.js"):
        if (root / candidate).is_file():
            return root / candidate
    raise FileNotFoundError("MathJax (tex-svg.js) is not in node_modules: run npm ci --no-audit --no-fund")


def copy_slide_assets(slides_dir: Path, root: Path = ROOT) -> None:
    """reveal.js (its dist folder) and MathJax's SVG build next to the decks (relative paths work from file://)."""
    reveal = root / "node_modules" / "reveal.js" / "dist"
    if not reveal.is_dir():
        raise FileNotFoundError("reveal.js is not in node_modules: run npm ci --no-audit --no-fund")
    assets = slides_dir / "assets"
    shutil.copytree(reveal, assets / "reveal", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.mjs", "*.d.ts", "*.map"))
    mathjax = _mathjax_file(root)
    (assets / "mathjax").mkdir(parents=True, exist_ok=True)
    shutil.copy2(mathjax, assets / "mathjax" / "tex-svg.js")


def write_deck(md: Path, book, executed_dir: Path, slides_dir: Path, bundle: str | None) -> Path:
    slides = deck_slides(md, book, executed_dir)
    text = "\n".join(slides)
    if bundle is None:
        text = text.replace('<div class="usaav-explorer"', NO_LIVE_EXPLORERS + '<div class="usaav-explorer"')
        # the placeholder's own text promises a start that cannot come without the bundle
        text = re.sub(r'<p class="usaav-explorer-fallback">.*?</p>', "", text, flags=re.DOTALL)
        explorers = ""
    else:
        explorers = "<script>\n" + bundle.replace("</script", "<\\/script") + "\n</script>"
    here = f"book/{md.stem}"
    number = dict(usaav_editions.toc_pages(md.parents[1]))[here]
    page = DECK.format(title=html.escape(f"{number}. {book.titles[here]}"), slides=text, explorers=explorers)
    path = slides_dir / f"{md.stem}.html"
    path.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------
# PDFs: the notebooks with the book's outputs, printed by headless Chromium
# --------------------------------------------------------------------------

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-size: 11pt; }
.jp-Cell, .jp-OutputArea-output, pre, img, table, blockquote, figure, .usaav-panels { break-inside: avoid; }
.jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
img { max-width: 100%; height: auto; }
.celltag_figure-caption { break-before: avoid; }
.celltag_chapter-start { break-before: page; }
.usaav-panels { display: flex; flex-wrap: wrap; gap: 2mm; }
.usaav-panels img { width: 31%; }
details > summary { list-style: none; font-weight: bold; }
"""

EXPLORER_IN_PRINT = ("<p><i>An explorer runs here in the notebook and in the online book; this printed "
                     "page shows the figures that follow it.</i></p>")


def _with_outputs(nb: dict, outputs: dict[str, list]) -> dict:
    """A copy of ``nb`` whose code cells carry the book's outputs (explorers replaced by a sentence)."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            if "remove-cell" in cell["metadata"].get("tags", []) and "google.colab" in "".join(cell["source"]):
                continue  # the Colab set-up cell
            code = "".join(cell["source"]).strip()
            if _EXPLORER_CALL.search(code):
                cells.append({"cell_type": "markdown", "metadata": {}, "source": EXPLORER_IN_PRINT,
                              "id": cell.get("id", "x")})
                continue
            cell["outputs"] = [o for o in outputs.get(code, []) if o.get("output_type") != "stream"
                               or o.get("name") != "stderr"]
            # on paper, the code the book hides stays hidden; a solution's code is shown
            if set(cell["metadata"].get("tags", [])) & {"hide-input", "remove-input"}:
                cell["metadata"]["transient"] = {"remove_source": True}
        cells.append(cell)
    nb["cells"] = cells
    return nb


def notebook_print_html(nb: dict, mathjax: str) -> str:
    """The notebook as HTML for printing: nbconvert's page, local MathJax (SVG), solutions unfolded."""
    import nbconvert
    import nbformat

    exporter = nbconvert.HTMLExporter(exclude_input_prompt=True, exclude_output_prompt=True)
    # reads() joins the multi-line strings of the JSON (sources, stream texts) as Jupyter does
    page, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(nb), as_version=4))
    page = re.sub(r'<script[^>]*src="https://cdn[^"]*mathjax[^"]*"[^>]*>\s*</script>', "", page, flags=re.I)
    page = re.sub(r"<script[^>]*require\.js[^>]*>\s*</script>", "", page)
    head = (f"<style>{PRINT_CSS}</style><script>window.MathJax = {{ tex: {{ inlineMath: [['$','$'],['\\\\(','\\\\)']] "
            f"}}, svg: {{ fontCache: 'global' }} }};</script><script src=\"{mathjax}\"></script>")
    page = page.replace("</head>", head + "</head>", 1)
    return page.replace("<details>", "<details open>")


def whole_book(notebooks: list[dict]) -> dict:
    """One notebook of several (their cells in order), each starting on a new printed page."""
    merged = copy.deepcopy(notebooks[0])
    merged["cells"] = []
    for nb in notebooks:
        cells = copy.deepcopy(nb["cells"])
        for cell in cells:
            if cell["cell_type"] == "markdown":
                cell["metadata"].setdefault("tags", []).append("chapter-start")
                break
        merged["cells"] += cells
    return merged


def print_pdf(page: Path, pdf: Path, chromium: str) -> None:
    pdf.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="usaav-chromium-") as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                        "--no-pdf-header-footer", "--virtual-time-budget=20000", "--run-all-compositor-stages-before-draw",
                        f"--print-to-pdf={pdf}", page.as_uri()],
                       check=True, capture_output=True, timeout=300)
    if not pdf.is_file() or pdf.stat().st_size < 1000:
        raise RuntimeError(f"Chromium made no PDF of {page}")


def find_chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


# --------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "_build" / "course"))
    parser.add_argument("--executed", default=str(ROOT / "_build" / "jupyter_execute"),
                        help="the book's executed notebooks (make book)")
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out, executed = Path(args.out), Path(args.executed)
    repo = usaav_book.config_repository()
    book = usaav_book.book_index(repo["repository"], ROOT)
    for folder in ("student", "solutions", "slides", "pdf"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    copy_slide_assets(out / "slides")
    bundle = classic_bundle()
    if bundle is None:
        print("note: usaav.explorers.classic_bundle() does not exist in this library: the slides show "
              "where each explorer is, not the live explorer", flush=True)
    chromium = None if args.no_pdf else find_chromium()
    if not args.no_pdf and chromium is None:
        raise SystemExit("no Chromium found for the PDFs (apt-get install chromium, or CHROMIUM=...; --no-pdf skips)")
    mathjax = _mathjax_file()
    printed = []  # the student edition of each page of the whole-book PDF
    jobs = []  # (HTML page, PDF): printed two at a time at the end (Chromium is mostly one core each)
    with tempfile.TemporaryDirectory(prefix="usaav-course-") as scratch:
        for md in chapters():
            texts = {edition: usaav_book.edition_notebook_text(md, edition, **repo)
                     for edition in ("student", "book")}
            (out / "student" / f"{md.stem}.ipynb").write_text(texts["student"], encoding="utf-8")
            (out / "solutions" / f"{md.stem}.ipynb").write_text(texts["book"], encoding="utf-8")
            write_deck(md, book, executed, out / "slides", bundle)
            if chromium:
                outputs = _executed(md, executed)
                for edition, suffix in (("student", ""), ("book", "-solutions")):
                    nb = _with_outputs(json.loads(texts[edition]), outputs)
                    page = Path(scratch) / f"{md.stem}{suffix}.html"
                    page.write_text(notebook_print_html(nb, mathjax.as_uri()), encoding="utf-8")
                    jobs.append((page, out / "pdf" / f"{md.stem}{suffix}.pdf"))
                    if edition == "student":
                        printed.append(nb)
            print(f"course: {md.stem}  {time.perf_counter() - start:6.1f} s", flush=True)
        if chromium:
            appendix = ROOT / "book" / "appendix_numerics.md"
            if appendix.is_file():
                text = usaav_book.edition_notebook_text(appendix, "student", **repo)
                printed.append(_with_outputs(json.loads(text), _executed(appendix, executed)))
            page = Path(scratch) / "usaav-book.html"
            page.write_text(notebook_print_html(whole_book(printed), mathjax.as_uri()), encoding="utf-8")
            jobs.insert(0, (page, out / "pdf" / "usaav-book.pdf"))  # the longest first
            with ThreadPoolExecutor(max_workers=PRINT_WORKERS) as pool:
                for pdf in pool.map(lambda job: print_pdf(*job, chromium) or job[1], jobs):
                    print(f"course: {pdf.relative_to(out)}  {time.perf_counter() - start:6.1f} s", flush=True)
    print(f"course: wrote {out} in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
