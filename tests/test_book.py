"""Book infrastructure: paired notebooks for Colab/Binder and the launch links.

Every chapter is a MyST markdown notebook ``book/X.md``; its committed twin
``book/X.ipynb`` (what Binder and Colab open) is its "book" edition
(tests/test_editions.py checks how it reads): the same code cells in the
same order, plus one Colab-only setup cell in front.  Regenerate stale twins with
``python book/_ext/usaav_book.py sync`` (a book build does it too).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

if not (BOOK / "_ext" / "usaav_book.py").is_file():
    pytest.skip("the book is not in this source tree (a source distribution carries the library and its "
                "tests only)", allow_module_level=True)
jupytext = pytest.importorskip("jupytext", reason="needs the book's tools: pip install 'usaav[book]'")
yaml = pytest.importorskip("yaml", reason="needs the book's tools: pip install 'usaav[book]'")


def _load_book_extension():
    spec = importlib.util.spec_from_file_location("usaav_book", BOOK / "_ext" / "usaav_book.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


book_ext = _load_book_extension()
CHAPTERS = book_ext.chapter_sources(BOOK)
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _cells(nb):
    return [(cell.cell_type, cell.source.strip()) for cell in nb.cells]


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def test_there_are_chapters_to_pair():
    assert len(CHAPTERS) >= 2


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_twin_notebook_is_up_to_date(md):
    twin = md.with_suffix(".ipynb")
    assert twin.exists(), f"{twin.name} missing: run python book/_ext/usaav_book.py sync"
    expected = book_ext.paired_notebook_text(md, **book_ext.config_repository(ROOT / "_config.yml"))
    assert twin.read_text(encoding="utf-8") == expected, (
        f"{twin.name} is stale: run python book/_ext/usaav_book.py sync"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_twin_holds_the_chapter_code_cells_in_order(md):
    """Every code cell of the chapter is a code cell of the twin, unchanged, except the cells the book
    does not run (skip-execution: exercise templates and long runs), which the twin shows as text."""
    source = [cell.source.strip() for cell in jupytext.read(md).cells if cell.cell_type == "code"
              and "skip-execution" not in cell.metadata.get("tags", [])]
    twin = json.loads(md.with_suffix(".ipynb").read_text(encoding="utf-8"))
    code = ["".join(cell["source"]).strip() for cell in twin["cells"][1:] if cell["cell_type"] == "code"]
    assert code == source
    skipped = [cell.source.strip() for cell in jupytext.read(md).cells
               if "skip-execution" in cell.metadata.get("tags", [])]
    text = "\n".join("".join(cell["source"]) for cell in twin["cells"] if cell["cell_type"] == "markdown")
    for cell in skipped:
        assert f"```python\n{cell}\n```" in text


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.name)
def test_twin_has_no_outputs_and_a_colab_only_setup_cell(md):
    nb = json.loads(md.with_suffix(".ipynb").read_text(encoding="utf-8"))
    setup = nb["cells"][0]
    assert setup["cell_type"] == "code"
    assert "remove-cell" in setup["metadata"]["tags"]
    text = "".join(setup["source"])
    assert 'if "google.colab" in sys.modules:' in text
    assert f"git+{CONFIG['repository']['url']}@{CONFIG['repository']['branch']}" in text
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


def test_twins_are_excluded_from_the_sphinx_build():
    assert "book/*.ipynb" in CONFIG["exclude_patterns"]


def test_every_notebook_in_the_toc_has_a_launch_target():
    """sphinx-book-theme links Binder/Colab to X.ipynb when it exists next to X.md."""
    notebooks = [BOOK.parent / f"{name}.md" for name in _toc_files()]
    notebooks = [p for p in notebooks if p.exists() and book_ext.is_notebook_source(p)]
    assert notebooks, "no notebook chapters found in _toc.yml"
    for md in notebooks:
        assert md.with_suffix(".ipynb").exists(), f"launch target {md.with_suffix('.ipynb').name} missing"


def test_launch_buttons_are_configured():
    launch = CONFIG["launch_buttons"]
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")


def _built_pages():
    html = ROOT / "_build" / "html" / "book"
    return sorted(html.glob("*.html")) if html.is_dir() else []


@pytest.mark.book
@pytest.mark.skipif(not _built_pages(), reason="book not built (run make book)")
def test_built_launch_links_point_at_existing_notebooks():
    repo = CONFIG["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    patterns = [
        re.compile(rf'href="https://colab\.research\.google\.com/github/{repo}/blob/{branch}/([^"]+)"'),
        re.compile(rf'href="https://mybinder\.org/v2/gh/{repo}/{branch}\?urlpath=(?:lab/)?tree/([^"]+)"'),
    ]
    found = 0
    for page in _built_pages():
        text = page.read_text(encoding="utf-8")
        for pattern in patterns:
            for target in pattern.findall(text):
                found += 1
                assert target.endswith(".ipynb"), f"{page.name}: launch link to {target} (Colab needs .ipynb)"
                assert "/./" not in target and not target.startswith("./"), f"{page.name}: {target}"
                assert (ROOT / target).exists(), f"{page.name}: launch target {target} does not exist"
    assert found > 0


# --------------------------------------------------------------------------
# Links to the model appendix, citations, numbering, exercises
# (book/_ext/usaav_refs.py, book/model.md, book/references.bib)
# --------------------------------------------------------------------------


def _load_extension(name: str):
    """A module of book/_ext, loaded from its file (book/_ext is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BOOK / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


refs_ext = _load_extension("usaav_refs")
HTML = ROOT / "_build" / "html"
_skip_unbuilt = pytest.mark.skipif(not _built_pages(), reason="book not built (run make book)")


def built(test):
    """A test of the built pages: in the book tier (tests/conftest.py), skipped without a build."""
    return pytest.mark.book(_skip_unbuilt(test))


def _visible(page: str) -> str:
    return re.sub(r"\s+", " ", refs_ext.visible_text((HTML / page).read_text(encoding="utf-8")))


def test_model_appendix_has_one_label_per_section_before_its_heading():
    text = (BOOK / "model.md").read_text(encoding="utf-8")
    for section in refs_ext.MODEL_SECTIONS:
        assert re.search(rf"^\(model-section-{section}\)=\n## §{section} ", text, re.MULTILINE), section
    assert "```{include}" not in text, "the appendix has its own text, not the repository's spec file"


def test_model_appendix_display_math_starts_on_its_own_paragraph():
    """A `$$` right after a line of text does not render as display math."""
    lines = (BOOK / "model.md").read_text(encoding="utf-8").splitlines()
    openings = [i for i, line in enumerate(lines) if line.strip() == "$$"][::2]
    assert openings
    for i in openings:
        assert lines[i - 1].strip() == "", f"line {i + 1}: $$ directly after text"


@pytest.mark.parametrize("text, expected", [
    ("§4", ("§4 of the model appendix", 4)),
    ("4", ("§4 of the model appendix", 4)),
    ("the energy bound <§4>", ("the energy bound", 4)),
    ("§9", ("§9", None)),
    ("§0", ("§0", None)),
    ("energy", ("energy", None)),
])
def test_model_reference_parsing(text, expected):
    assert refs_ext.parse_model_reference(text) == expected


def _sphinx_build(src: Path, out: Path, builder: str):
    """Run sphinx-build in its own process (extensions keep global state between apps)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "sphinx", "-b", builder, "-q", "-E", str(src), str(out)],
                          capture_output=True, text=True)


def _tiny_project(tmp_path: Path, extensions: list[str], pages: dict[str, str], conf: str = "") -> Path:
    """A Sphinx project in ``tmp_path/src`` with book/_ext on the path, these extensions and pages."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(BOOK / '_ext')!r})\nextensions = {extensions!r}\n{conf}",
        encoding="utf-8")
    for name, text in pages.items():
        (src / name).write_text(text, encoding="utf-8")
    return src


@pytest.mark.book
def test_model_role_links_known_sections_and_warns_on_unknown_ones(tmp_path):
    """A tiny Sphinx project with the role: links resolve to the section labels; §9 is a warning."""
    src = _tiny_project(tmp_path, ["myst_parser", "usaav_refs"], {
        "index.md": "# Index\n\nSee {model}`§4`, {model}`the bound <§4>` and {model}`§9`.\n\n"
                    "```{toctree}\nmodel\n```\n",
        "model.md": "# Model\n\n" + "".join(f"(model-section-{k})=\n## §{k} Part {k}\n\nText.\n\n"
                                            for k in range(1, 7)),
    })
    result = _sphinx_build(src, tmp_path / "out", "html")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a class="[^"]*reference internal" href="model.html#model-section-4">(.*?)</a>', page, re.S)
    assert [re.sub(r"<[^>]+>", "", link).strip() for link in links] == ["§4 of the model appendix", "the bound"]
    assert "unknown section '§9'" in result.stderr
    assert result.stderr.count("WARNING") == 1


def test_the_paper_entry_has_no_invented_author():
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    entry = bib[bib.index("{usaav2026,"):]
    entry = entry[: entry.index("\n}")]
    assert "author" not in entry and "editor" not in entry
    assert re.search(r"eprint\s*=\s*\{2605\.30229\}", entry) and re.search(r"year\s*=\s*\{2026\}", entry)
    assert "Anti Mode-Collapse in Mean-Field Transformer via Auxiliary Variables" in entry


def test_author_year_label_follows_the_citation_rules():
    from pybtex.database import Entry, Person

    def entry(*authors, **fields):
        e = Entry("article", fields={"year": "2021", "title": "T", **fields})
        for author in authors:
            e.add_person(Person(author), "author")
        return e

    assert refs_ext.author_year_label(entry("Rudin, Walter")) == "Rudin, 2021"
    assert refs_ext.author_year_label(entry("Li, Xiang Lisa", "Liang, Percy")) == "Li and Liang, 2021"
    assert refs_ext.author_year_label(entry("Su, J.", "Lu, Y.", "Pan, S.")) == "Su et al., 2021"
    assert refs_ext.author_year_label(entry("N{\\o}rsett, Syvert")) == "Nørsett, 2021"
    assert refs_ext.author_year_label(entry(shorthand="arXiv:2605.30229")) == "arXiv:2605.30229, 2021"


def _bibliography_labels() -> dict[str, str]:
    page = (HTML / "book" / "bibliography.html").read_text(encoding="utf-8")
    entries = re.findall(r'<div class="citation" id="(id\d+)"[^>]*>\s*<span class="label">(.*?)</span>\s*</span>',
                         page, re.S)
    return {anchor: re.sub(r"<[^>]+>", "", label).strip("[] ") for anchor, label in entries}


@built
def test_every_citation_in_the_text_reads_as_its_bibliography_label():
    labels = _bibliography_labels()
    assert len(labels) >= 20
    assert not [label for label in labels.values() if label.isdigit()], "numbered labels in the bibliography"
    checked = 0
    for page in _built_pages():
        if page.name == "bibliography.html":
            continue
        text = page.read_text(encoding="utf-8")
        for anchor, inner in re.findall(r'<a class="reference internal" href="bibliography\.html#(id\d+)"[^>]*>(.*?)</a>',
                                        text, re.S):
            assert re.sub(r"<[^>]+>", "", inner).strip() == labels[anchor], (page.name, anchor)
            checked += 1
    assert checked >= 30


@built
def test_the_paper_is_cited_by_its_arxiv_id_and_never_as_anonymous():
    labels = _bibliography_labels()
    assert "arXiv:2605.30229, 2026" in labels.values()
    bibliography = _visible("book/bibliography.html")
    assert "Anonymous" not in bibliography and "The authors of" not in bibliography
    assert "[ arXiv:2605.30229, 2026 ] Anti mode-collapse in mean-field transformer via auxiliary variables." in bibliography
    assert "[ arXiv:2605.30229, 2026 ]" in _visible("book/preface.html")


#: Pages of the book infrastructure (not chapters): they must already be free
#: of internal references.
INFRASTRUCTURE_PAGES = [
    "book/model.html", "book/preface.html", "book/bibliography.html", "book/instructor.html", "book/appendix_api.html"]


@built
def test_infrastructure_pages_show_no_internal_references():
    assert refs_ext.internal_references(HTML, INFRASTRUCTURE_PAGES) == {}


@built
def test_no_page_of_the_book_shows_internal_references():
    found = refs_ext.internal_references(HTML)
    assert found == {}, "\n".join(f"{page}: {hits[0]}" for page, hits in found.items())


def test_internal_reference_checker_finds_what_it_should(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.html").write_text(
        "<head><title>MODEL.md</title></head><p>as in <em>MODEL.md</em> §4 and the seed paper</p>"
        "<script>var x = 'MODEL.md';</script>", encoding="utf-8")
    (tmp_path / "book" / "b.html").write_text("<p>§4 of the model appendix; random seeds</p>", encoding="utf-8")
    found = refs_ext.internal_references(tmp_path)
    assert list(found) == ["book/a.html"] and len(found["book/a.html"]) == 2


@built
def test_model_appendix_links_resolve_to_its_section_anchors():
    preface = (HTML / "book" / "preface.html").read_text(encoding="utf-8")
    assert 'href="model.html#model-section-1"' in preface
    model = (HTML / "book" / "model.html").read_text(encoding="utf-8")
    for section in refs_ext.MODEL_SECTIONS:
        assert f'id="model-section-{section}"' in model


@built
def test_model_appendix_display_math_is_rendered_as_display_math():
    model = (HTML / "book" / "model.html").read_text(encoding="utf-8")
    assert model.count('<div class="math notranslate nohighlight">') >= 5
    assert "$$" not in _visible("book/model.html")


@built
def test_results_are_numbered_per_chapter():
    assert "Theorem 3.1" in _visible("book/03_positional_encoding.html")
    assert "Proposition 5.1" in _visible("book/05_examples.html")


def test_appendices_restate_no_result_of_the_chapters():
    """A result is stated once, in its chapter; appendices refer to it with {prf:ref}."""
    for name in ("model.md", "appendix_numerics.md", "appendix_api.md", "bibliography.md"):
        text = (BOOK / name).read_text(encoding="utf-8")
        assert not re.search(r"\{prf:(?!ref)\w+\}", text), name


def test_preface_states_how_results_are_numbered():
    text = (BOOK / "preface.md").read_text(encoding="utf-8")
    assert "## How results are numbered" in text and "the paper's Prop. 11" in text


def test_sphinx_exercise_is_pinned_and_enabled():
    # the book's dependencies are listed once, in the `book` extra of pyproject.toml
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^\s*"sphinx-exercise==\d+\.\d+\.\d+",', pyproject, re.MULTILINE)
    assert "sphinx_exercise" in CONFIG["sphinx"]["extra_extensions"]


@built
def test_exercise_is_numbered_and_its_solution_folded_and_checked():
    page = (HTML / "book" / "instructor.html").read_text(encoding="utf-8")
    assert re.search(r'<div class="solution dropdown[^"]*"', page), "solutions must be folded (:class: dropdown)"
    text = _visible("book/instructor.html")
    # the instructor page is not a numbered chapter: its demonstration exercise has no number
    # (an "Exercise 1" there would read as chapter 1's first exercise)
    assert "Exercise (The collapse gap)" in text and "Solution to Exercise (The collapse gap)" in text
    assert "Exercise 1 (The collapse gap)" not in text
    # The solution ran at build time and passed; the template cell (skip-execution) did not run.
    assert text.count("check_collapse_gap: Correct.") == 1
    assert text.count("check_collapse_gap: Not yet.") == 1


@built
def test_instructor_page_lists_every_self_check_and_what_it_trains():
    from usaav.exercises import EXERCISES

    text = _visible("book/instructor.html")
    for exercise in EXERCISES:
        assert exercise.name in text and exercise.trains in text


@pytest.mark.book
def test_exercise_table_lists_the_exercises_of_the_book_with_links_kinds_and_checks(tmp_path):
    """A tiny numbered book: a chapter with a pen-and-paper and a coding exercise, and a page with the table."""
    from usaav.exercises import EXERCISES

    src = _tiny_project(tmp_path, ["myst_parser", "sphinx_exercise", "usaav_refs"], {
        "index.md": "# Index\n\n```{toctree}\n:numbered:\nchapter\nteach\n```\n",
        "chapter.md": "# Flows\n\n"
                      "```{exercise} Derive the gap\n:label: ex-gap\nShow that the gap is $1-|m|^2$.\n```\n\n"
                      "```{exercise} The velocity in NumPy\n:label: ex-velocity\nWrite `my_velocity`.\n```\n\n"
                      "```{solution-start} ex-velocity\n:class: dropdown\n```\n\n"
                      "```python\ncheck_velocity(my_velocity)\n```\n\n"
                      "```{solution-end}\n```\n",
        "teach.md": "# Teaching\n\n```{exercise-table}\n```\n",
    }, conf="numfig = True\n")
    result = _sphinx_build(src, tmp_path / "out", "html")
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr
    page = (tmp_path / "out" / "teach.html").read_text(encoding="utf-8")
    # (visible_text puts a space where a tag was: drop it before punctuation)
    text = re.sub(r"\s+([,.:)])", r"\1", re.sub(r"\s+", " ", refs_ext.visible_text(page)))
    assert 'href="chapter.html#ex-gap"' in page and 'href="chapter.html#ex-velocity"' in page
    assert "Chapter 1: Flows" in text
    assert "Exercise 1.1 (Derive the gap), pen and paper." in text
    velocity = next(exercise for exercise in EXERCISES if exercise.name == "check_velocity")
    assert f"Exercise 1.2 (The velocity in NumPy), coding, checked by check_velocity: {velocity.trains}." in text
    unused = text[text.index("Self-checks that no exercise"):]
    assert "check_velocity" not in unused and "check_energy" in unused


def test_docstrings_link_model_sections_and_leave_doctest_lines_alone():
    lines = ["The flow (MODEL.md §2; the paper's eq. (1)), as in MODEL.md",
             "§6.1 and MODEL.md §2–§3.", "", ">>> print('MODEL.md §4')", "MODEL.md §4", "", "See MODEL.md §4."]
    refs_ext._docstring_model_links(None, "function", "f", None, {}, lines)
    assert lines == [
        "The flow (:ref:`§2 of the model appendix <model-section-2>`; the paper's eq. (1)), as in "
        ":ref:`§6.1 of the model appendix <model-section-6-1>` and :ref:`§2 <model-section-2>` and "
        ":ref:`§3 <model-section-3>` of the model appendix.",
        "", ">>> print('MODEL.md §4')", "MODEL.md §4", "", "See :ref:`§4 of the model appendix <model-section-4>`."]
    with pytest.raises(ValueError, match="MODEL.md §9"):
        refs_ext.model_links("MODEL.md §9")


def test_model_appendix_labels_the_subsections_docstrings_link_to():
    text = (BOOK / "model.md").read_text(encoding="utf-8")
    assert re.search(r"^\(model-appendix\)=\n# ", text, re.MULTILINE)
    for number in refs_ext.MODEL_SUBSECTIONS:
        label = number.replace(".", "-")
        assert re.search(rf"^\(model-section-{label}\)=\n### §{re.escape(number)} ", text, re.MULTILINE), number


def test_model_appendix_calls_the_merger_times_regression_values():
    text = re.sub(r"\s+", " ", (BOOK / "model.md").read_text(encoding="utf-8"))
    assert "Regression values, not predictions." in text
    assert "this book's reconstruction" in text and "1/W_{AB}" in text


@built
def test_api_appendix_documents_every_public_module_and_links_the_model_appendix():
    page = (HTML / "book" / "appendix_api.html").read_text(encoding="utf-8")
    for module in ("sphere", "labels", "kernels", "dynamics", "integrate", "observables", "maximizers",
                   "transport", "zonal", "twisted", "formula", "gauges", "reduced", "targets", "scenarios",
                   "experiments", "plotting", "plotting.experiments", "tables", "explorers", "specs", "exercises",
                   "cli"):
        assert f'id="module-usaav.{module}"' in page, module
    for name in ("usaav.sphere.haar_rotations", "usaav.explorers.Explorer.state", "usaav.exercises.EXERCISES",
                 "usaav.experiments.check_dask_workers", "usaav.cli.main"):
        assert f'id="{name}"' in page, name
    assert 'href="model.html#model-section-3"' in page and 'href="model.html#model-section-6-1"' in page
    assert refs_ext.internal_references(HTML, ["book/appendix_api.html"]) == {}


def test_binder_gets_a_pinned_python_and_the_book_extra():
    """repo2docker reads runtime.txt (the Python) and requirements.txt (what to install)."""
    runtime = (ROOT / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.(1[0-3])", runtime), runtime
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"Programming Language :: Python :: {runtime.removeprefix("python-")}"' in pyproject
    requirements = [line.strip() for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
                    if line.strip() and not line.startswith("#")]
    assert requirements == ["-e .[book]"]


# --------------------------------------------------------------------------
# Phone and print (book/_ext/usaav_print.py, book/_static/usaav-*.css)
# --------------------------------------------------------------------------


print_ext = _load_extension("usaav_print")
STATIC = BOOK / "_static"


def _css_rules(name: str) -> str:
    return re.sub(r"/\*.*?\*/", "", (STATIC / name).read_text(encoding="utf-8"), flags=re.S)


def test_layout_css_scrolls_wide_equations_and_tables_with_an_edge_cue():
    css = _css_rules(print_ext.LAYOUT_CSS)
    block = css[: css.index("}") + 1]
    assert 'div.math mjx-container[display="true"]' in block and ".pst-scrollable-table-container" in block
    assert "overflow-x: auto" in block
    # Fallback: covers that travel with the content, shadows fixed to the edges.
    assert block.count("no-repeat local") == 2 and block.count("no-repeat scroll") == 2
    # Where supported: a fade driven by the scroll position (works on any background).
    assert re.search(r"@supports \(animation-timeline: scroll\(\)\)[^@]*animation-timeline: scroll\(self inline\)", css)
    assert "@keyframes usaav-edge-fade" in css and "mask-image" in css


def test_layout_css_lets_several_figures_of_one_output_wrap():
    css = _css_rules(print_ext.LAYOUT_CSS)
    assert re.search(r"div\.cell_output:has\(> img \+ img\) \{[^}]*display: flex;[^}]*flex-wrap: wrap", css)


def test_print_css_hides_controls_keeps_figures_whole_and_unfolds_solutions():
    css = _css_rules(print_ext.PRINT_CSS)
    hidden = css[: css.index("display: none !important")]
    for selector in (".usaav-explorer", "p.usaav-live-note", ".bd-sidebar-primary", ".anim-buttons"):
        assert selector in css[: css.index("details.hide.above-input")], selector
    assert "bd-header" in hidden
    assert re.search(r"div\.cell_output img, figure,[^{]*\{\s*break-inside: avoid", css)
    assert re.search(r"\.bd-content table \{\s*break-inside: auto", css)  # long tables break between rows
    assert "details.sd-dropdown::details-content" in css and ".admonition.toggle-hidden" in css
    assert re.search(r"@page \{\s*size: A4", css)


def test_both_stylesheets_are_added_print_only_for_print():
    calls = []

    class App:
        def connect(self, event, handler):
            calls.append(("connect", event))

        def add_css_file(self, name, **attributes):
            calls.append((name, attributes))

    print_ext.setup(App())
    assert (print_ext.LAYOUT_CSS, {}) in calls and (print_ext.PRINT_CSS, {"media": "print"}) in calls
    assert (STATIC / print_ext.LAYOUT_CSS).is_file() and (STATIC / print_ext.PRINT_CSS).is_file()


def _singlehtml_project(tmp_path, extensions):
    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(BOOK / '_ext')!r})\n"
        f"extensions = {extensions!r}\nroot_doc = 'book/index'\nnb_execution_mode = 'off'\n",
        encoding="utf-8")
    (src / "book" / "index.md").write_text(
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n# Index\n\n"
        "```{code-cell} ipython3\n:tags: [hide-input]\nprint(1)\n```\n\n"
        "```{exercise} A question\n:label: ex-q\n\nWhy?\n```\n\n[to the top](#index)\n", encoding="utf-8")
    return _sphinx_build(src, tmp_path / "out", "singlehtml"), tmp_path / "out"


@pytest.mark.book
def test_single_page_build_fails_with_sphinx_exercise_alone(tmp_path):
    """The bug the extension works around: myst-nb's hidden cells lose their singlehtml visitors."""
    result, _ = _singlehtml_project(tmp_path, ["myst_nb", "sphinx_exercise"])
    assert result.returncode != 0 and "unknown node type: HideCodeCellNode" in result.stderr


@pytest.mark.book
def test_single_page_build_works_and_is_copied_where_its_links_resolve(tmp_path):
    result, out = _singlehtml_project(tmp_path, ["myst_nb", "sphinx_exercise", "usaav_print"])
    assert result.returncode == 0, result.stderr
    page = (out / print_ext.PRINT_PAGE).read_text(encoding="utf-8")
    assert '<details class="admonition hide above-input">' in page
    assert 'href="_static/' in page and (out / "_static").is_dir()
    assert 'href="book/index.html#' not in page and 'href="#index"' in page


def test_external_resources_lists_scripts_and_stylesheets_from_the_network():
    page = ('<script src="https://cdn.example/mathjax.js"></script><script src="_static/a.js"></script>'
            '<link rel="stylesheet" href="https://cdn.example/font.css"><link rel="canonical" href="https://x/">'
            '<a href="https://github.com/">repo</a>')
    assert print_ext.external_resources(page) == ["https://cdn.example/font.css", "https://cdn.example/mathjax.js"]


def test_untypeset_math_finds_raw_tex():
    rendered = ('<span class="math notranslate nohighlight"><mjx-container>x</mjx-container></span>'
                '<div class="math notranslate nohighlight">\\[ E_n \\]</div>')
    assert print_ext.untypeset_math(rendered) == (2, ["\\[ E_n \\]"])


def test_chromium_prints_offline():
    command = print_ext.chromium_command("chromium", Path("x.html"), Path("/tmp/p"), ["--dump-dom"])
    assert "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost" in command
    assert any(arg.startswith("--virtual-time-budget=") for arg in command)
    assert command[-1].startswith("file://") and "--dump-dom" in command


def _chromium_or_skip():
    try:
        return print_ext.find_chromium()
    except FileNotFoundError:
        pytest.skip("no Chromium on this machine")


@pytest.mark.browser
def test_print_pdf_writes_an_a4_pdf_of_a_page(tmp_path):
    _chromium_or_skip()
    page = tmp_path / "page.html"
    page.write_text("<html><head><style>@page { size: A4; }</style></head><body><h1>One</h1>"
                    "<p style='break-before: page'>Two</p></body></html>", encoding="utf-8")
    pdf = tmp_path / "out" / "book.pdf"
    assert print_ext.print_pdf(page, pdf) == 2
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and re.search(rb"/MediaBox\s*\[\s*0 0 59[45]\.\d+ 841\.\d+", data)


@pytest.mark.browser
def test_print_pdf_refuses_a_page_whose_math_is_not_typeset(tmp_path):
    _chromium_or_skip()
    page = tmp_path / "page.html"
    page.write_text('<p>Energy <span class="math notranslate nohighlight">\\(E_n\\)</span></p>', encoding="utf-8")
    with pytest.raises(RuntimeError, match="untypeset"):
        print_ext.print_pdf(page, tmp_path / "book.pdf")
    assert not (tmp_path / "book.pdf").exists()


# --------------------------------------------------------------------------
# The execution cache follows the library; the kernel runs this working tree
# --------------------------------------------------------------------------


def _cache_with_one_notebook(cache_path):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    import nbformat

    cell = nbformat.v4.new_code_cell("usaav.collapse_gap(X)", execution_count=1,
                                     outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "0.5"},
                                                                     execution_count=1)])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    get_cache(str(cache_path)).cache_notebook_bundle(CacheBundleIn(notebook, "chapter.ipynb"),
                                                     check_validity=False)


def _cached_notebooks(cache_path):
    from jupyter_cache import get_cache

    return len(get_cache(str(cache_path)).list_cache_records())


def test_cached_outputs_are_kept_while_the_library_digest_is_unchanged(tmp_path):
    pytest.importorskip("jupyter_cache")
    cache = tmp_path / ".jupyter_cache"
    assert book_ext.refresh_execution_cache(cache, "digest-a") is False  # a new cache
    _cache_with_one_notebook(cache)
    assert book_ext.refresh_execution_cache(cache, "digest-a") is False
    assert _cached_notebooks(cache) == 1


def test_cached_outputs_are_dropped_when_the_library_digest_changes(tmp_path):
    pytest.importorskip("jupyter_cache")
    cache = tmp_path / ".jupyter_cache"
    book_ext.refresh_execution_cache(cache, "digest-a")
    _cache_with_one_notebook(cache)
    assert book_ext.refresh_execution_cache(cache, "digest-b") is True
    assert _cached_notebooks(cache) == 0
    assert (cache / book_ext.LIBRARY_DIGEST_FILE).read_text().strip() == "digest-b"


def test_a_cache_from_before_the_digest_is_dropped(tmp_path):
    pytest.importorskip("jupyter_cache")
    cache = tmp_path / ".jupyter_cache"
    _cache_with_one_notebook(cache)
    assert book_ext.refresh_execution_cache(cache, "digest-a") is True
    assert _cached_notebooks(cache) == 0


def test_the_book_build_keys_its_cache_on_the_library_digest(tmp_path):
    """The builder-inited hook, as Sphinx calls it: the stored digest is usaav.experiments.library_digest()."""
    pytest.importorskip("jupyter_cache")
    pytest.importorskip("sphinx")
    from types import SimpleNamespace

    from usaav.experiments import library_digest

    cache = tmp_path / ".jupyter_cache"
    book_ext.refresh_execution_cache(cache, "digest-of-an-older-library")
    _cache_with_one_notebook(cache)
    config = SimpleNamespace(execution_mode="cache", execution_cache_path=str(cache))
    app = SimpleNamespace(srcdir=str(ROOT), env=SimpleNamespace(mystnb_config=config))
    book_ext._refresh_cache_on_build(app)
    assert _cached_notebooks(cache) == 0
    assert (cache / book_ext.LIBRARY_DIGEST_FILE).read_text().strip() == library_digest()
    _cache_with_one_notebook(cache)
    book_ext._refresh_cache_on_build(app)
    assert _cached_notebooks(cache) == 1


def test_every_page_is_reread_once_after_the_library_changed():
    """Sphinx re-reads only changed sources; a new library digest makes every page outdated, once."""
    from types import SimpleNamespace

    from usaav.experiments import library_digest

    env = SimpleNamespace(found_docs={"book/a", "book/b", "book/c"}, usaav_library_digest="older")
    assert book_ext._reread_when_library_changed(None, env, {"book/c"}, set(), set()) == ["book/a", "book/b"]
    assert env.usaav_library_digest == library_digest()
    assert book_ext._reread_when_library_changed(None, env, set(), set(), set()) == []


def test_the_book_kernel_runs_this_working_tree():
    """The chapters' kernel, started where the book runs them, imports usaav from this repository."""
    jupyter_client = pytest.importorskip("jupyter_client")
    kernel_name = jupytext.read(CHAPTERS[0]).metadata["kernelspec"]["name"]
    printed = []

    def keep_stdout(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    manager, client = jupyter_client.manager.start_new_kernel(kernel_name=kernel_name, cwd=str(BOOK))
    try:
        reply = client.execute_interactive("import usaav; print(usaav.__file__)", timeout=60,
                                           output_hook=keep_stdout)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok"
    assert Path("".join(printed).strip()).resolve() == (ROOT / "usaav" / "__init__.py").resolve()
