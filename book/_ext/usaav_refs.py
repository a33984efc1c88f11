"""Sphinx extension for the usaav book: links to the model appendix, author–year citations.

Two jobs, plus a checker for the built pages:

1. **The ``{model}`` role.**  Chapters cite the model appendix
   (``book/model.md``) by section: ``{model}`§4``` renders as the link
   "§4 of the model appendix" to that section, and ``{model}`the energy
   bound <§4>``` links any text to it.  The appendix defines one label per
   section, ``model-section-1`` … ``model-section-6``; an unknown section
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

3. **Checker** (command line, from the repository root, after a build)::

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
MODEL_SECTIONS = range(1, 7)
MODEL_DOC_LABEL = "model-section-{}"
MODEL_LINK_TEXT = "§{} of the model appendix"

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
# 3. Checker: internal references left in the built pages
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
