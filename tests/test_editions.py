"""The notebook editions of the chapters (book/_ext/usaav_editions.py): they read like the book in plain Jupyter.

Checked here: the numbers ("Theorem 4.1") against a hand-numbered small book
and against the built book when there is one; no MyST syntax in any Markdown
cell, before and after ``nbconvert --to html``; solutions folded in the book
edition and absent from the student edition, which keeps every exercise and
gives each coding exercise a blank and a check cell.  Executing the
notebooks in a Colab-like environment is ``make notebooks-check``
(tools/notebooks_check.py), too slow for the test suite.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "book" / "_ext"

if not (EXT / "usaav_editions.py").is_file():
    pytest.skip("the book is not in this source tree (a source distribution carries the library and its "
                "tests only)", allow_module_level=True)
jupytext = pytest.importorskip("jupytext", reason="needs the book's tools: pip install 'usaav[book]'")
pytest.importorskip("pybtex", reason="needs the book's tools: pip install 'usaav[book]'")


def _load(name):
    if str(EXT) not in sys.path:
        sys.path.insert(0, str(EXT))
    return importlib.import_module(name)


editions = _load("usaav_editions")
book_ext = _load("usaav_book")
REPO = book_ext.config_repository(ROOT / "_config.yml")
CHAPTERS = book_ext.chapter_sources(ROOT / "book")
NUMBERED = [md for md in CHAPTERS if re.match(r"\d\d_", md.name)]


@pytest.fixture(scope="module")
def book():
    return editions.Book.load(REPO["repository"], ROOT)


def _notebook(md, book, edition):
    return editions.chapter_notebook(md, book, edition)


def _markdown(nb):
    return [cell.source for cell in nb.cells if cell.cell_type == "markdown"]


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------

SMALL_TOC = """format: jb-book
root: book/intro
parts:
  - caption: Chapters
    numbered: 1
    chapters:
      - file: book/01_a
      - file: book/02_b
  - caption: Appendix
    chapters:
      - file: book/appendix
"""
HEADER = "---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n  display_name: Python 3\n  name: python3\n---\n"
CHAPTER_B = HEADER + """
# Chapter B

```{prf:theorem} First
:label: thm-b1

A.
```

:::{prf:corollary} Only
:label: cor-b1

B.
:::

````{admonition} A box holding a theorem
```{prf:theorem} Second
:label: thm-b2

C.
```
````

```{exercise} One
:label: ex-b1

D.
```

```{code-cell} ipython3
---
mystnb:
  figure:
    caption: A figure.
    name: fig-b1
---
print(1)
```

(sec-b)=
## A section

See {prf:ref}`thm-b2`, {numref}`fig-b1`, {ref}`ex-b1`, {ref}`sec-b` and {doc}`01_a`.
"""


@pytest.fixture
def small_book(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text(SMALL_TOC, encoding="utf-8")
    (tmp_path / "book" / "intro.md").write_text("# Intro\n", encoding="utf-8")
    (tmp_path / "book" / "01_a.md").write_text(HEADER + "\n# Chapter A\n\n```{prf:theorem} T\n:label: thm-a1\n\nX.\n```\n",
                                               encoding="utf-8")
    (tmp_path / "book" / "02_b.md").write_text(CHAPTER_B, encoding="utf-8")
    (tmp_path / "book" / "appendix.md").write_text(
        HEADER + "\n# Appendix\n\n```{prf:theorem} U\n:label: thm-app\n\nY.\n```\n", encoding="utf-8")
    return tmp_path


def test_labels_are_numbered_per_chapter_and_kind_as_sphinx_numbers_them(small_book):
    labels, titles = editions.label_index(small_book)
    numbers = {label: target.text for label, target in labels.items()}
    assert numbers == {
        "thm-a1": "Theorem 1.1",
        "thm-b1": "Theorem 2.1", "cor-b1": "Corollary 2.1", "thm-b2": "Theorem 2.2",
        "ex-b1": "Exercise 2.1", "fig-b1": "Fig. 2.1", "sec-b": "A section",
        "thm-app": "Theorem 1",  # a page outside the numbered part: no chapter prefix
    }
    assert titles["book/02_b"] == "Chapter B"


def test_references_become_links_to_the_online_book(small_book):
    labels, titles = editions.label_index(small_book)
    book = editions.Book(labels, titles, {}, editions.online_book_url("https://github.com/Someone/usaav-fork"))
    nb = editions.chapter_notebook(small_book / "book" / "02_b.md", book)
    text = "\n".join(_markdown(nb))
    base = "https://someone.github.io/usaav-fork/book/"
    assert f"[Theorem 2.2]({base}02_b.html#thm-b2)" in text
    assert f"[Fig. 2.1]({base}02_b.html#fig-b1)" in text
    assert f"[Exercise 2.1]({base}02_b.html#ex-b1)" in text
    assert f"[A section]({base}02_b.html#sec-b)" in text
    assert f"[Chapter A]({base}01_a.html)" in text
    assert "> **Theorem 2.2** (Second)" in text and "> **Corollary 2.1** (Only)" in text
    assert "**Fig. 2.1.** A figure." in text
    assert editions.myst_leftovers(text) == []


def test_an_unknown_label_is_an_error_naming_it(small_book):
    labels, titles = editions.label_index(small_book)
    book = editions.Book(labels, titles, {}, "https://x.github.io/y/")
    with pytest.raises(ValueError, match="thm-nowhere"):
        editions.render_roles("See {prf:ref}`thm-nowhere`.", book, "book/02_b")
    with pytest.raises(ValueError, match="nobody2020"):
        editions.render_roles("See {cite}`nobody2020`.", book, "book/02_b")


def test_the_online_book_url_comes_from_the_repository_url():
    assert editions.online_book_url("https://github.com/usaav-project/usaav") == "https://usaav-project.github.io/usaav/"
    with pytest.raises(ValueError, match="repository must be"):
        editions.online_book_url("https://gitlab.com/a/b")


@pytest.mark.book
def test_numbers_equal_the_built_books(book):
    """Every numbered label shows in the notebooks the number the built book gives it."""
    html_dir = ROOT / "_build" / "html"
    if not (html_dir / "book" / "04_prompts.html").is_file():
        pytest.skip("no built book in _build/html (make book)")
    checked = 0
    for label, target in book.labels.items():
        if target.kind == "section":
            continue
        page = (html_dir / f"{target.doc}.html").read_text(encoding="utf-8")
        where = re.search(rf'id="{re.escape(label)}"', page)
        assert where, f"{label}: no such id in {target.doc}.html"
        shown = re.search(r'caption-number">([^<]*?)\s*<', page[where.start():])
        assert shown and shown.group(1).strip() == target.text, (label, target.text, shown and shown.group(1))
        checked += 1
    assert checked > 50


def test_citations_are_the_bibliographys_author_year_labels(book):
    text = "\n".join(_markdown(_notebook(ROOT / "book" / "04_prompts.md", book, "book")))
    bibliography = f"{book.base_url}book/bibliography.html"
    assert f"[[Li and Liang, 2021]({bibliography}); [Lester et al., 2021]({bibliography})]" in text
    assert f"[[arXiv:2605.30229, 2026]({bibliography})]" in text


# --------------------------------------------------------------------------
# No MyST left, in the notebooks and in their HTML
# --------------------------------------------------------------------------


def test_the_leftover_finder_sees_each_kind_of_myst_syntax():
    for planted in ("```{prf:theorem} T", ":::{admonition} A", "see {cite}`x2020`", "(sec-x)="):
        assert editions.myst_leftovers(f"text\n{planted}\nmore") == [planted]
    assert editions.myst_leftovers("code `{cite}`x`` and\n```python\n{cite}`x`\n```") == []


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_no_markdown_cell_of_the_committed_twin_holds_myst_syntax(md):
    nb = json.loads(md.with_suffix(".ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            assert editions.myst_leftovers("".join(cell["source"])) == []


#: What a reader would see of MyST in rendered HTML: a directive, a role, an option line or a target.
VISIBLE_MYST = re.compile(r"\{(prf:[a-z]+|exercise|solution[a-z-]*|admonition|dropdown|list-table|cite|doc|ref|numref|"
                          r"model)\}|^:(label|class|tags|name):|^\([a-z0-9-]+\)=", re.MULTILINE)


@pytest.mark.parametrize("edition", ["book", "student"])
def test_nbconvert_html_shows_no_directive_or_role(edition, book):
    nbconvert = pytest.importorskip("nbconvert", reason="needs nbconvert (requirements-dev.txt)")
    nbformat = pytest.importorskip("nbformat")
    exporter = nbconvert.HTMLExporter()
    for md in CHAPTERS:
        nb = _notebook(md, book, edition)
        page, _ = exporter.from_notebook_node(nbformat.from_dict(nb))
        body = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.DOTALL)
        # the visible text of the Markdown cells only (code cells legitimately print anything)
        rendered = " ".join(re.findall(r'<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>(.*?)</div>',
                                       body, flags=re.DOTALL))
        text = re.sub(r"<[^>]+>", "\n", rendered)
        assert rendered, f"{md.name}: no Markdown cells found in the HTML"
        assert not VISIBLE_MYST.search(text), f"{md.name}: {VISIBLE_MYST.search(text).group(0)!r}"
    # the check can fail: a MyST role planted in a Markdown cell is seen
    planted = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("See {prf:ref}`thm-x`.")])
    page, _ = exporter.from_notebook_node(planted)
    assert VISIBLE_MYST.search(re.sub(r"<[^>]+>", "\n", page))


# --------------------------------------------------------------------------
# Solutions: folded in the book edition, absent from the student edition
# --------------------------------------------------------------------------


def _solutions(md):
    """The text and code of each solution of the chapter source, found without the editions' parser."""
    text = md.read_text(encoding="utf-8")
    gated = r"^[`:]{3,}\{solution-start\}.*?\n(.*?)^[`:]{3,}\{solution-end\}"
    fenced = r"^(`{3,})\{solution\}.*?\n(.*?)^\1\s*$"
    blocks = re.findall(gated, text, re.DOTALL | re.MULTILINE)
    blocks += re.findall(fenced, text, re.DOTALL | re.MULTILINE)
    # a line the chapter also shows outside its solutions (a template's signature) is no solution text
    outside = re.sub(fenced, "", re.sub(gated, "", text, flags=re.DOTALL | re.MULTILINE), flags=re.DOTALL | re.MULTILINE)
    shown = {line.strip() for line in outside.splitlines()}
    pieces = []
    for block in blocks:
        block = block[1] if isinstance(block, tuple) else block
        for line in block.splitlines():
            line = line.strip()
            # long lines of prose or code that say something (not fences, options or blanks)
            if len(line) > 40 and not line.startswith(("```", ":", "check_", "from usaav", "import ")) \
                    and "{" not in line and "`" not in line and line not in shown:
                pieces.append(line)
    return pieces


def _exercise_labels(md):
    return re.findall(r"^[`:]{3,}\{exercise\}.*\n(?::[a-z-]+:.*\n)*?:label:\s*(\S+)", md.read_text(encoding="utf-8"),
                      re.MULTILINE)


@pytest.mark.parametrize("md", NUMBERED, ids=lambda p: p.name)
def test_the_student_edition_has_every_exercise_and_no_solution_text(md, book):
    student = _notebook(md, book, "student")
    everything = "\n".join(cell.source for cell in student.cells)
    solutions = _solutions(md)
    assert solutions, f"{md.name}: no solution text found to look for"
    for piece in solutions:
        assert piece not in everything, f"{md.name}: solution text in the student edition: {piece!r}"
    assert "solution" not in json.dumps([cell.metadata for cell in student.cells])
    for label in _exercise_labels(md):
        assert f"**{book.labels[label].text}**" in everything, f"{md.name}: {label} missing"
    # the book edition does hold them, folded
    full = _notebook(md, book, "book")
    full_text = "\n".join(cell.source for cell in full.cells)
    for piece in solutions:
        assert piece in full_text.replace("\n", " ") or piece in full_text


@pytest.mark.parametrize("md", NUMBERED, ids=lambda p: p.name)
def test_solutions_are_folded_in_the_book_edition(md, book):
    full = _notebook(md, book, "book")
    tagged = [cell for cell in full.cells if "solution" in cell.metadata.get("tags", [])]
    assert tagged
    for cell in tagged:
        if cell.cell_type == "code":
            assert cell.metadata["jupyter"]["source_hidden"] is True
        elif cell.source.startswith("<details>"):
            assert cell.source.rstrip().endswith("</details>") and "<summary><b>Solution to Exercise" in cell.source
        else:
            assert cell.source.startswith("**Solution to Exercise")


@pytest.mark.parametrize("md", NUMBERED, ids=lambda p: p.name)
def test_each_coding_exercise_is_a_blank_then_a_check_in_the_student_edition(md, book):
    source = jupytext.read(md)
    templates = [cell.source for cell in source.cells
                 if "skip-execution" in cell.metadata.get("tags", []) and re.search(r"^check_", cell.source, re.M)]
    student = _notebook(md, book, "student")
    cells = student.cells
    blanks = [i for i, cell in enumerate(cells) if "exercise-blank" in cell.metadata.get("tags", [])]
    assert len(blanks) == len(templates)
    for i, template in zip(blanks, templates):
        blank, check = cells[i], cells[i + 1]
        assert "exercise-check" in check.metadata["tags"]
        assert "..." in blank.source or "NotImplementedError" in blank.source
        assert re.fullmatch(r"check_[a-z0-9_]+\([^\n]*\)", check.source.strip())
        assert f"{blank.source}\n\n\n{check.source}".strip() == template.strip()
        assert blank.metadata["usaav"]["exercise"] in _exercise_labels(md)
        assert blank.metadata["usaav"] == check.metadata["usaav"]


def test_an_unknown_edition_is_refused(book):
    with pytest.raises(ValueError, match="edition must be one of"):
        editions.chapter_notebook(NUMBERED[0], book, "teacher")


# --------------------------------------------------------------------------
# The course kit (tools/course.py, make course)
# --------------------------------------------------------------------------


def _course():
    tools = str(ROOT / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    return importlib.import_module("course")


def _fake_run(md, folder):
    """An executed copy of the chapter whose figure and explorer cells have recognisable outputs."""
    nbformat = pytest.importorskip("nbformat")
    nb = jupytext.read(md)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        html = f"<p>output of cell {index}</p>"
        if re.search(r"^explorers\.", cell.source, re.M):
            html = f'<div class="usaav-explorer" data-usaav-explorer="{{}}">explorer of cell {index}</div>'
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html})]
    (folder / "book").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / "book" / f"{md.stem}.ipynb"))
    return folder


def test_a_deck_shows_each_statement_figure_and_explorer_of_its_chapter(book, tmp_path):
    course = _course()
    md = ROOT / "book" / "04_prompts.md"
    slides = course.deck_slides(md, book, _fake_run(md, tmp_path))
    deck = "\n".join(slides)
    source = md.read_text(encoding="utf-8")
    kinds = re.findall(r"^[`:]{3,}\{prf:(definition|theorem|proposition|corollary|lemma)\}", source, re.M)
    assert sum(1 for s in slides if 'class="usaav-statement' in s) == len(kinds) > 0
    for label, target in book.labels.items():
        if target.doc == "book/04_prompts" and target.kind in (*course.KEY_KINDS, "figure"):
            assert f"{target.text}" in deck, label
    explorer_cells = len(re.findall(r"^explorers\.", source, re.M))
    assert deck.count('class="usaav-explorer"') == explorer_cells > 0
    assert slides[0].startswith("<section><h1>4. Prompts as auxiliary variables</h1>")
    assert "<h2>Summary</h2>" in slides[-1]
    text = re.sub(r"<[^>]+>", "\n", deck)
    assert not VISIBLE_MYST.search(text), VISIBLE_MYST.search(text)


def test_a_deck_is_live_with_the_classic_bundle_and_says_so_without_it(book, tmp_path):
    course = _course()
    md = ROOT / "book" / "04_prompts.md"
    executed = _fake_run(md, tmp_path / "run")
    still = course.write_deck(md, book, executed, tmp_path, None).read_text(encoding="utf-8")
    assert still.count(course.NO_LIVE_EXPLORERS) == 2
    bundle = "window.usaavExplorers = { mountPlaceholders: function (root) {} };"
    live = course.write_deck(md, book, executed, tmp_path, bundle).read_text(encoding="utf-8")
    assert course.NO_LIVE_EXPLORERS not in live and bundle in live
    assert 'src="assets/reveal/reveal.js"' in live and 'src="assets/mathjax/tex-svg.js"' in live
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", live)  # nothing loaded from the network


def test_the_whole_book_starts_each_chapter_on_a_new_page():
    course = _course()
    one = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x"},
                     {"cell_type": "markdown", "metadata": {}, "source": "# One"}], "metadata": {}}
    two = {"cells": [{"cell_type": "markdown", "metadata": {"tags": ["t"]}, "source": "# Two"}], "metadata": {}}
    merged = course.whole_book([one, two])
    assert [cell["source"] for cell in merged["cells"]] == ["x", "# One", "# Two"]
    assert merged["cells"][1]["metadata"]["tags"] == ["chapter-start"]
    assert merged["cells"][2]["metadata"]["tags"] == ["t", "chapter-start"]
    assert "tags" not in one["cells"][1]["metadata"]  # the inputs are left alone


@pytest.mark.book
def test_the_built_course_kit_is_complete_and_the_student_edition_holds_no_solution(book):
    out = ROOT / "_build" / "course"
    if not (out / "student").is_dir():
        pytest.skip("no course kit in _build/course (make course)")
    for md in NUMBERED:
        for path in (out / "student" / f"{md.stem}.ipynb", out / "solutions" / f"{md.stem}.ipynb",
                     out / "slides" / f"{md.stem}.html", out / "pdf" / f"{md.stem}.pdf",
                     out / "pdf" / f"{md.stem}-solutions.pdf"):
            assert path.is_file() and path.stat().st_size > 1000, path
        student = json.loads((out / "student" / f"{md.stem}.ipynb").read_text(encoding="utf-8"))
        text = "\n".join("".join(cell["source"]) for cell in student["cells"])
        for piece in _solutions(md):
            assert piece not in text, f"{md.name}: solution text in the student edition: {piece!r}"
        for label in _exercise_labels(md):
            assert f"**{book.labels[label].text}**" in text, f"{md.name}: exercise {label} missing"
    assert (out / "pdf" / "usaav-book.pdf").is_file()
    assert (out / "slides" / "assets" / "reveal" / "reveal.js").is_file()


def test_the_colab_cell_installs_the_extras_the_book_runs_with():
    """Colab gets the library extras of the `book` extra (Binder's): plot, and experiments for POT."""
    tools = str(ROOT / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    notebooks_check = importlib.import_module("notebooks_check")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    book_extra = re.search(r"^book = \[(.*?)^\]", pyproject, re.MULTILINE | re.DOTALL).group(1)
    wanted = set(re.search(r'"usaav\[([a-z,]+)\]"', book_extra).group(1).split(","))
    assert "experiments" in wanted
    made = re.search(r'"usaav\[([a-z,]+)\] @ git\+', book_ext.colab_cell_source(**REPO)).group(1)
    assert set(made.split(",")) == wanted  # the cell the sync writes
    for md in CHAPTERS:  # and the cells committed
        assert set(notebooks_check.setup_extras(md.with_suffix(".ipynb")).split(",")) == wanted, md.name


def test_printed_pages_show_solution_code_and_hide_what_the_book_hides():
    course = _course()
    nb = {"metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {"tags": ["solution"], "jupyter": {"source_hidden": True}},
         "source": "answer = 42", "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {"tags": ["hide-input"], "jupyter": {"source_hidden": True}},
         "source": "plot()", "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": "explorers.collapse()", "outputs": [], "execution_count": None},
    ]}
    printed = course._with_outputs(nb, {"answer = 42": [], "plot()": []})
    assert "transient" not in printed["cells"][0]["metadata"]
    assert printed["cells"][1]["metadata"]["transient"] == {"remove_source": True}
    assert printed["cells"][2] == {"cell_type": "markdown", "metadata": {}, "source": course.EXPLORER_IN_PRINT,
                                   "id": "x"}


def test_a_download_becomes_a_link_to_the_file_beside_the_notebook(small_book):
    labels, titles = editions.label_index(small_book)
    book = editions.Book(labels, titles, {}, "https://x.github.io/y/")
    text = editions.render_roles("({download}`starting notebook <projects/a.ipynb>`)", book, "book/instructor")
    assert text == "([starting notebook](projects/a.ipynb))"
    assert editions.myst_leftovers(text) == []


def test_a_library_name_becomes_a_link_to_its_api_entry(small_book):
    labels, titles = editions.label_index(small_book)
    book = editions.Book(labels, titles, {}, "https://x.github.io/y/")
    text = editions.render_roles("{class}`usaav.attention.AttentionBlock` and {func}`~usaav.velocity`", book, "book/08")
    assert text == ("[`usaav.attention.AttentionBlock`](https://x.github.io/y/book/appendix_api.html"
                    "#usaav.attention.AttentionBlock) and [`velocity()`](https://x.github.io/y/book/appendix_api.html"
                    "#usaav.velocity)")
