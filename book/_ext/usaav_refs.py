"""Sphinx extension for the usaav book: links to the model appendix, author–year citations.

Three jobs, plus a checker for the built pages:

1. **The ``{model}`` role.**  Chapters cite the model appendix
   (``book/model.md``) by section: ``{model}`§4``` renders as the link
   "§4 of the model appendix" to that section, and ``{model}`the energy
   bound <§4>``` links any text to it.  The appendix defines one label per
   section, ``model-section-1`` … ``model-section-7``; an unknown section
   (``{model}`§9```) is a warning, so the strict build (``-W``) fails.

2. **Author–year citations that match the bibliography.**  In the text,
   sphinxcontrib-bibtex cites as "[Vaswani et al., 2017]"
   (``bibtex_reference_style: usaav_author_year``).  The bibliography uses
   the formatting style ``usaav`` (``bibtex_default_style``): pybtex's
   ``plain`` entries, sorted by author, year and title, each labelled with
   the same "Vaswani et al., 2017" as the text.  An entry without authors
   or editors (the paper itself) is cited by its ``shorthand`` field
   ("arXiv:2605.30229, 2026"), in the text and in the bibliography alike,
   rather than by "Anonymous" or by its whole title.

3. **Docstrings that link to the model appendix.**  The library's
   docstrings cite the mathematics as "MODEL.md §4" (the file sits next to
   the code).  In the API appendix an ``autodoc-process-docstring`` hook
   turns each such reference into a link: "MODEL.md §4" becomes "§4 of the
   model appendix", "MODEL.md §6.1" becomes "§6.1 of the model appendix"
   (the subsections §6.1 and §6.2 have their own labels; any other §N.k
   links to §N), "MODEL.md §2–§3"
   links both sections, and a bare "MODEL.md" links the appendix.  Lines of
   doctest examples are left as they are (they show what the code prints).
   Module constants are shown with their value only when it is short
   (:data:`MAX_SHOWN_VALUE` characters); a table of scenarios or exercises
   is described by its docstring instead of a page-long ``repr``.

4. **The table of exercises** on the instructor page: the directive
   ``{exercise-table}`` lists, chapter by chapter, every exercise the built
   book contains (its number, title and link), whether it is pen-and-paper
   or coding, and for a coding exercise the self-check of
   :mod:`usaav.exercises` it uses and what that check trains
   (``usaav.exercises.EXERCISES``), then the self-checks no exercise uses
   yet.  It is collected from the pages as they are read, so it never names
   an exercise that does not exist.

5. **Checker** (command line, from the repository root, after a build)::

       python book/_ext/usaav_refs.py internal [_build/html]

   lists every page whose visible text still shows a repository file name
   ("MODEL.md §4") or the internal word "seed" for the paper, and exits 1
   if there is any.  ``tests/test_book.py`` runs the same function.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: Sections of the model appendix; ``model-section-N`` is the label of §N.
MODEL_SECTIONS = range(1, 8)
MODEL_DOC_LABEL = "model-section-{}"
MODEL_LINK_TEXT = "§{} of the model appendix"
#: Subsections of §6 with their own label (the paper's experiments, numbered as in the paper).
MODEL_SUBSECTIONS = ("6.1", "6.2")

_SECTION = re.compile(r"^§?\s*(\d+)$")
_EXPLICIT = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


# --------------------------------------------------------------------------
# 1. The {model} role
# --------------------------------------------------------------------------


def parse_model_reference(text: str) -> tuple[str, int | None]:
    """Split ``"§4"`` or ``"title <§4>"`` into (link text, section); section None if unknown."""
    text = text.strip()
    explicit = _EXPLICIT.match(text)
    target = explicit.group("target").strip() if explicit else text
    match = _SECTION.match(target)
    section = int(match.group(1)) if match else None
    if section not in MODEL_SECTIONS:
        section = None
    title = explicit.group("title") if explicit else (MODEL_LINK_TEXT.format(section) if section else text)
    return title, section


def _model_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    from docutils import nodes
    from sphinx import addnodes

    title, section = parse_model_reference(text)
    if section is None:
        message = inliner.reporter.warning(
            f"{{model}} role: unknown section {text!r}; the model appendix has "
            f"§{MODEL_SECTIONS[0]} to §{MODEL_SECTIONS[-1]} (write {{model}}`§4`)",
            line=lineno,
        )
        return [nodes.inline(rawtext, title)], [message]
    node = addnodes.pending_xref(
        rawtext, refdomain="std", reftype="ref", reftarget=MODEL_DOC_LABEL.format(section),
        refexplicit=True, refwarn=True, classes=["usaav-model-ref"],
    )
    node += nodes.inline(title, title, classes=["xref", "std", "std-ref"])
    return [node], []


# --------------------------------------------------------------------------
# 3. "MODEL.md §N" in docstrings → links to the model appendix
# --------------------------------------------------------------------------

#: "MODEL.md §6.1", "MODEL.md §2–3", "MODEL.md §2–§3", "MODEL.md\n    §1", or a bare "MODEL.md".
_DOCSTRING_MODEL = re.compile(
    r"MODEL\.md(?:\s*§\s*(?P<first>\d+)(?P<sub>(?:\.\d+)*)"
    r"(?:\s*[–-]\s*§?\s*(?P<last>\d+)(?P<last_sub>(?:\.\d+)*))?)?"
)


def _section_link(section: int, sub: str, text: str) -> str:
    """A link to §section.sub if the appendix labels that subsection, else to §section."""
    number = f"{section}{sub}"
    label = MODEL_DOC_LABEL.format(number.replace(".", "-") if number in MODEL_SUBSECTIONS else section)
    return f":ref:`{text} <{label}>`"


def model_links(text: str) -> str:
    """Rewrite every "MODEL.md §N" of reST ``text`` as a link to §N of the model appendix.

    >>> model_links("the kernels (MODEL.md §3)")
    'the kernels (:ref:`§3 of the model appendix <model-section-3>`)'
    >>> model_links("MODEL.md §6.1")
    ':ref:`§6.1 of the model appendix <model-section-6-1>`'
    >>> model_links("MODEL.md §4.2")
    ':ref:`§4.2 of the model appendix <model-section-4>`'
    >>> model_links("(MODEL.md §2–3)")
    '(:ref:`§2 <model-section-2>` and :ref:`§3 <model-section-3>` of the model appendix)'
    >>> model_links("see MODEL.md")
    'see :ref:`the model appendix <model-appendix>`'
    """

    def link(match: re.Match) -> str:
        first, last = match.group("first"), match.group("last")
        if first is None:
            return ":ref:`the model appendix <model-appendix>`"
        sections = [int(first)] if last is None else [int(first), int(last)]
        unknown = [n for n in sections if n not in MODEL_SECTIONS]
        if unknown:
            raise ValueError(f"docstring cites MODEL.md §{unknown[0]}, but the model appendix has "
                             f"§{MODEL_SECTIONS[0]} to §{MODEL_SECTIONS[-1]}: {match.group(0)!r}")
        if last is None:
            return _section_link(sections[0], match.group("sub"), MODEL_LINK_TEXT.format(first + match.group("sub")))
        subs = (match.group("sub"), match.group("last_sub"))
        parts = [_section_link(n, sub, f"§{n}{sub}") for n, sub in zip(sections, subs)]
        return f"{parts[0]} and {parts[1]} of the model appendix"

    return _DOCSTRING_MODEL.sub(link, text)


#: Longest value of a module constant shown next to its name; longer ones
#: (tables of scenarios, of exercises, of explorer options) are left to their docstring.
MAX_SHOWN_VALUE = 100


def _short_value_data_documenter():
    from sphinx.ext.autodoc import DataDocumenter
    from sphinx.util.inspect import object_description

    class ShortValueDataDocumenter(DataDocumenter):
        """Module data with its value shown only when the value is short enough to read."""

        priority = DataDocumenter.priority + 1

        def should_suppress_value_header(self) -> bool:
            try:
                too_long = len(object_description(self.object)) > MAX_SHOWN_VALUE
            except Exception:  # a value without a repr is not shown either
                too_long = True
            return too_long or super().should_suppress_value_header()

    return ShortValueDataDocumenter


def _is_doctest(line: str) -> bool:
    return line.lstrip().startswith((">>>", "..."))


def _docstring_model_links(app, what, name, obj, options, lines) -> None:
    """``autodoc-process-docstring``: link "MODEL.md §N" in prose, leave doctest blocks alone."""
    out: list[str] = []
    prose: list[str] = []
    in_doctest = False

    def flush():
        if prose:
            out.extend(model_links("\n".join(prose)).split("\n"))
            prose.clear()

    for line in lines:
        if _is_doctest(line):
            in_doctest = True
        elif not line.strip():
            in_doctest = False
        if in_doctest:
            flush()
            out.append(line)
        else:
            prose.append(line)
    flush()
    lines[:] = out


# --------------------------------------------------------------------------
# 2. Author-year labels and citations
# --------------------------------------------------------------------------


def _last_names(person) -> str:
    return " ".join(part.render_as("text") for part in person.rich_prelast_names + person.rich_last_names)


def author_year_label(entry) -> str:
    """"Su et al., 2021", "Li and Liang, 2021", "Rudin, 1962"; the ``shorthand`` field when there are no persons.

    The same rules as the citations of sphinxcontrib-bibtex's author–year
    style (last names; two joined by "and"; three or more: the first and
    "et al."), so that a label in the bibliography reads exactly as its
    citations in the text.
    """
    persons = entry.persons.get("author") or entry.persons.get("editor")
    if persons:
        names = [_last_names(person) for person in persons]
        who = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
    else:
        who = entry.fields.get("shorthand") or entry.fields.get("title", "")
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


def _register_bibliography_styles() -> None:
    import pybtex.plugin
    import sphinxcontrib.bibtex.plugin
    from pybtex.style.formatting.plain import Style as PlainStyle
    from pybtex.style.labels import BaseLabelStyle
    from pybtex.style.template import field as bib_field
    from pybtex.style.template import first_of, optional, tag
    from sphinxcontrib.bibtex.style.referencing import PersonStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
    from sphinxcontrib.bibtex.style.template import names

    class AuthorYearLabelStyle(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            seen: dict[str, int] = {}
            for entry in sorted_entries:
                label = author_year_label(entry)
                seen[label] = seen.get(label, 0) + 1
                # Two works with the same label get "2017", "2017b" (the text would not tell them apart).
                yield label if seen[label] == 1 else f"{label}{chr(ord('a') + seen[label] - 1)}"

    class UsaavStyle(PlainStyle):
        """pybtex's plain entries, sorted by author, year and title, with author-year labels."""

        default_label_style = "usaav_author_year"
        default_sorting_style = "author_year_title"

    @dataclass
    class ShorthandPersonStyle(PersonStyle):
        """Authors, else editors, else the ``shorthand`` field, else the title."""

        def author_or_editor_or_title(self, full: bool):
            options = dict(sep=self.sep, sep2=self.sep2, last_sep=self.last_sep, other=None if full else self.other)
            return first_of[
                optional[names("author", **options)],
                optional[names("editor", **options)],
                optional[bib_field("shorthand")],
                tag("em")[bib_field("title")],
            ]

    @dataclass
    class UsaavReferenceStyle(AuthorYearReferenceStyle):
        person: PersonStyle = field(default_factory=ShorthandPersonStyle)

    pybtex.plugin.register_plugin("pybtex.style.labels", "usaav_author_year", AuthorYearLabelStyle)
    pybtex.plugin.register_plugin("pybtex.style.formatting", "usaav", UsaavStyle)
    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", "usaav_author_year", UsaavReferenceStyle)


# --------------------------------------------------------------------------
# 4. The table of exercises (instructor page)
# --------------------------------------------------------------------------

_CHECK_NAME = re.compile(r"\bcheck_[a-z0-9_]+")


def _exercise_title(node) -> str:
    """The custom title of an exercise node ("The collapse gap"), or "" if it has none."""
    from sphinx_exercise.nodes import exercise_subtitle

    for subtitle in node.children[0].findall(exercise_subtitle) if node.children else ():
        return subtitle.astext()
    return ""


def _collect_exercises(app, doctree) -> None:
    """``doctree-read``: remember each exercise of the page, its title, kind and self-checks."""
    from docutils import nodes
    from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node, solution_node

    known = {exercise.name for exercise in _exercise_catalogue()}
    solutions = {}
    for node in doctree.findall(solution_node):
        solutions.setdefault(node.get("target_label"), []).append(node)
    entries = []
    for node in doctree.findall(lambda n: isinstance(n, (exercise_node, exercise_enumerable_node))):
        label = node.get("label", "")
        parts = [node] + solutions.get(label, [])
        text = " ".join(part.astext() for part in parts)
        checks = [name for name in dict.fromkeys(_CHECK_NAME.findall(text)) if name in known]
        template = any(_is_cell(sibling) for sibling in _until_solution(node))
        solution_code = any(_is_cell(c) for part in parts[1:] for c in part.findall(nodes.container))
        kind = "coding" if checks or template else "checked" if solution_code else "paper"
        entries.append({"label": label, "id": (node.get("ids") or [label])[0], "title": _exercise_title(node),
                        "checks": checks, "kind": kind})
    exercises = app.env.__dict__.setdefault("usaav_exercises", {})
    if entries:
        exercises[app.env.docname] = entries
    else:
        exercises.pop(app.env.docname, None)


def _is_cell(node) -> bool:
    """A code cell of a MyST notebook (myst-nb wraps each in a container with class "cell")."""
    return "cell" in node.get("classes", []) if hasattr(node, "get") else False


def _until_solution(exercise):
    """The siblings after an exercise up to the next exercise or solution: where its code template sits."""
    from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node, solution_node

    parent = exercise.parent
    if parent is None:
        return
    for sibling in parent.children[parent.index(exercise) + 1:]:
        if isinstance(sibling, (exercise_node, exercise_enumerable_node, solution_node)):
            return
        yield sibling


def _purge_exercises(app, env, docname) -> None:
    env.__dict__.get("usaav_exercises", {}).pop(docname, None)
    env.__dict__.get("usaav_exercise_table_docs", set()).discard(docname)


def _merge_exercises(app, env, docnames, other) -> None:
    exercises = env.__dict__.setdefault("usaav_exercises", {})
    exercises.update({name: entries for name, entries in other.__dict__.get("usaav_exercises", {}).items()
                      if name in docnames})
    env.__dict__.setdefault("usaav_exercise_table_docs", set()).update(
        other.__dict__.get("usaav_exercise_table_docs", set()) & set(docnames))


def _exercise_catalogue():
    from usaav.exercises import EXERCISES

    return EXERCISES


def _exercise_table_nodes(app, fromdoc: str) -> list:
    """The lists of the instructor page: exercises by chapter, then the unused self-checks."""
    from docutils import nodes

    env = app.env
    catalogue = {exercise.name: exercise for exercise in _exercise_catalogue()}
    found = env.__dict__.get("usaav_exercises", {})
    used: set[str] = set()
    out = []
    # (a page with the table, such as the instructor page with its example exercise, is not listed)
    tables = env.__dict__.get("usaav_exercise_table_docs", set())
    for docname in [d for d in _toc_order(env) if d in found and d != fromdoc and d not in tables]:
        number = env.toc_secnumbers.get(docname, {}).get("")
        chapter = env.titles[docname].astext()
        heading = nodes.paragraph()
        heading += nodes.strong(text=f"Chapter {'.'.join(map(str, number))}: " if number else "")
        heading += nodes.reference("", chapter, internal=True,
                                   refuri=_uri(app, fromdoc, docname, ""))
        out.append(heading)
        items = nodes.bullet_list()
        for entry in found[docname]:
            numbers = env.toc_fignumbers.get(docname, {}).get("exercise", {}).get(entry["id"])
            name = "Exercise " + ".".join(map(str, numbers)) if numbers else "Exercise"
            item = nodes.paragraph()
            item += nodes.reference("", name + (f" ({entry['title']})" if entry["title"] else ""), internal=True,
                                    refuri=_uri(app, fromdoc, docname, entry["id"]))
            if entry["checks"]:
                used.update(entry["checks"])
                item += nodes.Text(", coding, checked by ")
                for k, check in enumerate(entry["checks"]):
                    item += nodes.Text(", " if k else "")
                    item += nodes.literal(text=check)
                item += nodes.Text(": " + "; ".join(catalogue[check].trains for check in entry["checks"]) + ".")
            else:
                item += nodes.Text({"coding": ", coding.", "paper": ", pen and paper.",
                                    "checked": ", no self-check; its solution runs code."}[entry["kind"]])
            items += nodes.list_item("", item)
        out.append(items)
    unused = [exercise for exercise in _exercise_catalogue() if exercise.name not in used]
    if unused:
        intro = nodes.paragraph(text="Self-checks that no exercise of the book uses yet, "
                                     "for exercises of your own (the student writes the function in parentheses):")
        out.append(intro)
        items = nodes.bullet_list()
        for exercise in unused:
            item = nodes.paragraph()
            item += nodes.Text(f"Chapter {exercise.chapter}: ")
            item += nodes.literal(text=exercise.name)
            item += nodes.Text(" (")
            item += nodes.literal(text=exercise.signature)
            item += nodes.Text(f"): {exercise.trains}.")
            items += nodes.list_item("", item)
        out.append(items)
    return out


def _toc_order(env) -> list[str]:
    """Documents in reading order (the table of contents), chapters first."""
    order = []

    def walk(docname):
        if docname in order:
            return
        order.append(docname)
        for child in env.toctree_includes.get(docname, []):
            walk(child)

    walk(env.config.root_doc)
    return order + sorted(set(env.found_docs) - set(order))


def _uri(app, fromdoc: str, todoc: str, anchor: str) -> str:
    uri = app.builder.get_relative_uri(fromdoc, todoc)
    if uri.startswith("#"):  # the single-page build: every anchor is on this one page
        uri = ""
    return f"{uri}#{anchor}" if anchor else (uri or f"#{todoc.replace('/', '-')}")


try:
    from docutils import nodes as _nodes
    from sphinx.util.docutils import SphinxDirective as _SphinxDirective
except ImportError:  # the checker below runs without Sphinx
    _nodes = _SphinxDirective = None
else:

    class exercise_table_placeholder(_nodes.General, _nodes.Element):
        """Where ``{exercise-table}`` stands until every page is read (module level: doctrees are pickled)."""

    class ExerciseTable(_SphinxDirective):
        """``{exercise-table}``: replaced, once every page is read, by the exercises of the book."""

        has_content = False

        def run(self):
            self.env.__dict__.setdefault("usaav_exercise_table_docs", set()).add(self.env.docname)
            return [exercise_table_placeholder()]


def _fill_exercise_tables(app, doctree, docname) -> None:
    """``doctree-resolved``: the placeholder becomes the lists (numbers and links exist by now)."""
    for placeholder in list(doctree.findall(exercise_table_placeholder)):
        placeholder.replace_self(_exercise_table_nodes(app, docname))


def _outdated_exercise_tables(app, env, added, changed, removed) -> list[str]:
    """``env-get-outdated``: a page with the table is rewritten whenever another page changed."""
    pages = env.__dict__.get("usaav_exercise_table_docs", set())
    return sorted(pages - set(added) - set(changed)) if (added or changed or removed) else []


# --------------------------------------------------------------------------
# 5. Checker: internal references left in the built pages
# --------------------------------------------------------------------------

#: Text a reader must never see: a repository file name for the model
#: appendix, and "seed", the internal name of the paper.
INTERNAL_PATTERNS = (
    re.compile(r"MODEL\.md"),
    re.compile(r"\bseed (?:paper|text|Thm|Prop|Def|Ex|Cor|Lemma|App|eq|§)", re.IGNORECASE),
)

_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def visible_text(page_html: str) -> str:
    """The text a reader sees on a page (scripts, styles, the head and attributes dropped)."""
    return html.unescape(_TAG.sub(" ", _INVISIBLE.sub(" ", page_html)))


def internal_references(html_dir: Path, pages=None) -> dict[str, list[str]]:
    """Snippets of visible text showing internal references, by page (relative path).

    ``pages`` restricts the search to those relative paths (e.g.
    ``["book/model.html"]``); by default every page of the book is searched.
    """
    html_dir = Path(html_dir)
    paths = [html_dir / page for page in pages] if pages else sorted((html_dir / "book").glob("*.html"))
    found: dict[str, list[str]] = {}
    for path in paths:
        text = re.sub(r"\s+", " ", visible_text(path.read_text(encoding="utf-8")))
        hits = [text[max(0, m.start() - 40): m.end() + 40] for pattern in INTERNAL_PATTERNS
                for m in pattern.finditer(text)]
        if hits:
            found[str(path.relative_to(html_dir))] = hits
    return found


def setup(app):
    _register_bibliography_styles()
    app.add_role("model", _model_role)
    app.setup_extension("sphinx.ext.autodoc")  # its events and documenters, used below
    app.connect("autodoc-process-docstring", _docstring_model_links)
    app.add_autodocumenter(_short_value_data_documenter(), override=True)
    app.add_node(exercise_table_placeholder)
    app.add_directive("exercise-table", ExerciseTable)
    app.connect("env-get-outdated", _outdated_exercise_tables)
    app.connect("doctree-read", _collect_exercises)
    app.connect("env-purge-doc", _purge_exercises)
    app.connect("env-merge-info", _merge_exercises)
    app.connect("doctree-resolved", _fill_exercise_tables)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "internal" or len(argv) > 2:
        print("usage: python book/_ext/usaav_refs.py internal [_build/html]", file=sys.stderr)
        return 2
    html_dir = Path(argv[1] if len(argv) == 2 else "_build/html")
    found = internal_references(html_dir)
    for page, hits in found.items():
        print(f"{page}: {len(hits)}")
        for hit in hits[:5]:
            print(f"    …{hit}…")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
