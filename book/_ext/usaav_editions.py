"""One source, several editions: the MyST chapters as notebooks that read like the book in any Jupyter.

The chapters (``book/NN_*.md``) are written in MyST for Jupyter Book:
``{prf:theorem}`` boxes, ``{exercise}`` and ``{solution-start}`` blocks,
``{cite}`` and ``{prf:ref}`` roles, ``(label)=`` targets.  Plain JupyterLab,
Notebook 7, Colab and VS Code render none of it.  This module turns a
chapter into a notebook whose Markdown cells are plain Markdown and HTML:

- theorem, definition, … boxes and exercises become block quotes that open
  with their number and title, "**Theorem 4.1** (Prefix tokens …)", numbered
  as the built book numbers them (:func:`label_index`: per chapter, each kind
  with its own count, chapters numbered in the order of ``_toc.yml``);
- admonitions become block quotes, dropdowns ``<details>``;
- solutions are folded: their text in ``<details>``, their code cells with
  the input hidden (``jupyter.source_hidden``);
- ``{prf:ref}``, ``{numref}``, ``{ref}``, ``{doc}``, ``{model}`` and
  ``{cite}`` become links to the online book (author–year text for
  citations, the bibliography's labels); ``(label)=`` targets are removed;
- list tables become HTML tables with their number, and a figure made by a
  code cell gets its number and caption in a Markdown cell after it.

Two editions are made (:func:`chapter_notebook`): ``"book"`` (the committed
``book/*.ipynb`` that the launch buttons open, and the solutions edition of
the course kit) and ``"student"`` (no solution text or code; each coding
exercise as a cell with the blank and a check cell after it, tagged
``exercise-blank`` and ``exercise-check`` with the exercise's label in
``metadata.usaav.exercise``).

The online book lives at GitHub Pages of the repository of ``_config.yml``
(``https://OWNER.github.io/REPO/``), so ``make repository-url`` and a sync
move every link of the notebooks with the rest.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

BOOK_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = BOOK_DIR.parent

#: Directives of sphinx-proof that the book numbers, each kind with its own count.
PROOF_KINDS = ("theorem", "lemma", "corollary", "proposition", "definition", "example",
               "remark", "conjecture", "algorithm", "criterion", "property", "observation",
               "assumption", "notation", "axiom")
#: The word Sphinx writes before the number of a numbered figure and table.
FIGURE_WORD, TABLE_WORD = "Fig.", "Table"

EDITIONS = ("book", "student")

_DIRECTIVE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\{(?P<name>[A-Za-z0-9:_-]+)\}\s*(?P<arg>.*)$")
_CODE_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_TARGET = re.compile(r"^\((?P<label>[A-Za-z0-9_.:-]+)\)=\s*$")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_OPTION = re.compile(r"^:(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)$")
_ROLE = re.compile(r"\{(?P<role>[a-z][a-z:-]*)\}`(?P<text>[^`]+)`")
_EXPLICIT = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
_SOLUTION_MARK = re.compile(r"^\x00solution-(?P<edge>start|end) ?(?P<label>[^\x00]*)\x00$", re.MULTILINE)


@dataclass(frozen=True)
class Target:
    """What a label points at: its page (``book/04_prompts``), its anchor and the text a reference shows."""

    doc: str
    anchor: str
    text: str
    kind: str  # "theorem", "exercise", "figure", "table", "section", ...


# --------------------------------------------------------------------------
# The book's numbering and labels
# --------------------------------------------------------------------------


def toc_pages(root: Path = REPO_ROOT) -> list[tuple[str, int | None]]:
    """Every page of ``_toc.yml`` in order, as (docname, chapter number or None).

    Chapters of a part with ``numbered`` are numbered 1, 2, … in order,
    continuing across numbered parts (``use_multitoc_numbering``); the root
    and the pages of other parts have no number.
    """
    import yaml

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))
    pages: list[tuple[str, int | None]] = [(toc["root"], None)]
    number = 0
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            if part.get("numbered"):
                number += 1
                pages.append((chapter["file"], number))
            else:
                pages.append((chapter["file"], None))
    return pages


def _number(chapter: int | None, count: int) -> str:
    # Sphinx numbers figures of an unnumbered page 1, 2, … (no chapter prefix).
    return f"{chapter}.{count}" if chapter is not None else str(count)


def _directive_blocks(lines: list[str], start: int = 0):
    """Yield (open index, close index, match) of each top-level directive in ``lines``; skip code fences."""
    i = start
    while i < len(lines):
        line = lines[i]
        match = _DIRECTIVE.match(line)
        if match:
            close = _closing_fence(lines, i + 1, match.group("fence"))
            yield i, close, match
            i = close + 1
            continue
        fence = _CODE_FENCE.match(line)
        if fence:
            i = _closing_fence(lines, i + 1, fence.group("fence")) + 1
            continue
        i += 1


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing a fence opened with ``fence`` (or the last line when it is never closed)."""
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for j in range(start, len(lines)):
        if closing.match(lines[j]):
            return j
    return len(lines) - 1


def _split_options(body: list[str]) -> tuple[dict, list[str]]:
    """The ``:key: value`` options (or a ``---`` YAML block) at the top of a directive's body, and the rest."""
    options: dict = {}
    if body and body[0].strip() == "---":
        import yaml

        end = next((k for k in range(1, len(body)) if body[k].strip() == "---"), None)
        if end is not None:
            options = yaml.safe_load("\n".join(body[1:end])) or {}
            body = body[end + 1:]
    else:
        k = 0
        while k < len(body) and _OPTION.match(body[k]):
            match = _OPTION.match(body[k])
            options[match.group("key")] = match.group("value").strip()
            k += 1
        body = body[k:]
    while body and not body[0].strip():
        body = body[1:]
    while body and not body[-1].strip():
        body = body[:-1]
    return options, body


def page_cells(doc: str, root: Path = REPO_ROOT):
    """The cells of a page (a MyST notebook via jupytext; a plain Markdown page as one Markdown cell)."""
    import jupytext
    import nbformat

    path = Path(root) / f"{doc}.md"
    text = path.read_text(encoding="utf-8")
    head = text[:400]
    if head.startswith("---") and "jupytext:" in head:
        return jupytext.reads(text, fmt="md:myst").cells
    return [nbformat.v4.new_markdown_cell(text)]


def _page_title(cells) -> str:
    for cell in cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                heading = _HEADING.match(line)
                if heading and len(heading.group("hashes")) == 1:
                    return heading.group("title")
    return ""


def label_index(root: Path = REPO_ROOT) -> tuple[dict[str, Target], dict[str, str]]:
    """Every label of the book and every page title: ({label: Target}, {docname: title}).

    Numbers are counted as Sphinx counts them: per page, each kind (every
    sphinx-proof kind, exercises, figures, tables with a title) with its
    own count, prefixed by the chapter number on numbered chapters.
    ``tests/test_editions.py`` compares them with the built book.
    """
    labels: dict[str, Target] = {}
    titles: dict[str, str] = {}
    for doc, chapter in toc_pages(root):
        cells = page_cells(doc, root)
        titles[doc] = _page_title(cells)
        counts: dict[str, int] = {}

        def count(kind: str) -> str:
            counts[kind] = counts.get(kind, 0) + 1
            return _number(chapter, counts[kind])

        for cell in cells:
            if cell.cell_type == "code":
                figure = ((cell.metadata.get("mystnb") or {}).get("figure") or {})
                if figure.get("name"):
                    labels[figure["name"]] = Target(doc, figure["name"], f"{FIGURE_WORD} {count('figure')}", "figure")
                continue
            lines = cell.source.splitlines()
            _index_lines(lines, doc, count, labels)
    return labels, titles


def _index_lines(lines, doc, count, labels) -> None:
    for index, line in enumerate(lines):
        target = _TARGET.match(line)
        if target:
            following = _HEADING.match(next((after for after in lines[index + 1:] if after.strip()), ""))
            if following:
                labels[target.group("label")] = Target(doc, target.group("label"), following.group("title"), "section")
    for open_index, close_index, match in _directive_blocks(lines):
        name = match.group("name")
        options, body = _split_options(lines[open_index + 1:close_index])
        label = options.get("label") or options.get("name")
        kind = name.split(":", 1)[1] if name.startswith("prf:") else name
        if name.startswith("prf:") and kind in PROOF_KINDS and "nonumber" not in options:
            number = count(kind)
            if label:
                labels[label] = Target(doc, label, f"{kind.capitalize()} {number}", kind)
        elif name == "exercise" and "nonumber" not in options:
            number = count("exercise")
            if label:
                labels[label] = Target(doc, label, f"Exercise {number}", "exercise")
        elif name in ("list-table", "table") and match.group("arg").strip():
            number = count("table")
            if label:
                labels[label] = Target(doc, label, f"{TABLE_WORD} {number}", "table")
        elif name == "figure":
            number = count("figure")
            if label:
                labels[label] = Target(doc, label, f"{FIGURE_WORD} {number}", "figure")
        # Directives nest (an admonition may hold a theorem): index their bodies too.
        if _has_directive(body):
            _index_lines(body, doc, count, labels)


def directives(text: str):
    """Each top-level directive of a MyST Markdown text: (name, argument, options, body lines)."""
    lines = text.splitlines()
    for open_index, close_index, match in _directive_blocks(lines):
        options, body = _split_options(lines[open_index + 1:close_index])
        yield match.group("name"), match.group("arg").strip(), options, body


def _has_directive(lines: list[str]) -> bool:
    return any(_DIRECTIVE.match(line) for line in lines)


# --------------------------------------------------------------------------
# Links to the online book
# --------------------------------------------------------------------------


def online_book_url(repository: str) -> str:
    """GitHub Pages of ``https://github.com/OWNER/REPO``: ``https://owner.github.io/REPO/``."""
    match = re.fullmatch(r"https://github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)/?", repository)
    if not match:
        raise ValueError(f"repository must be https://github.com/OWNER/REPO, got {repository!r}")
    return f"https://{match.group(1).lower()}.github.io/{match.group(2)}/"


def bibliography_labels(root: Path = REPO_ROOT) -> dict[str, str]:
    """{citation key: "Su et al., 2021"}, the labels the book prints (``usaav_refs.author_year_label``)."""
    import sys

    from pybtex.database import parse_file

    ext = str(Path(__file__).resolve().parent)
    if ext not in sys.path:
        sys.path.insert(0, ext)
    from usaav_refs import author_year_label

    bib = parse_file(str(Path(root) / "book" / "references.bib"))
    return {key: author_year_label(entry) for key, entry in bib.entries.items()}


@dataclass(frozen=True)
class Book:
    """What a conversion needs to know about the whole book: labels, page titles, citations, its URL."""

    labels: dict
    titles: dict
    citations: dict
    base_url: str

    @classmethod
    def load(cls, repository: str, root: Path = REPO_ROOT) -> "Book":
        labels, titles = label_index(root)
        return cls(labels, titles, bibliography_labels(root), online_book_url(repository))

    def url(self, doc: str, anchor: str = "") -> str:
        return f"{self.base_url}{doc}.html" + (f"#{anchor}" if anchor else "")


def _resolve_doc(target: str, here: str) -> str:
    """A ``{doc}`` target relative to the page ``here`` (``03_x`` from ``book/04_y`` is ``book/03_x``)."""
    if target.startswith("/"):
        return target.lstrip("/")
    base = here.rsplit("/", 1)[0] + "/" if "/" in here else ""
    return base + target


def _model_reference(text: str) -> tuple[str, int]:
    import sys

    ext = str(Path(__file__).resolve().parent)
    if ext not in sys.path:
        sys.path.insert(0, ext)
    from usaav_refs import MODEL_DOC_LABEL, parse_model_reference

    title, section = parse_model_reference(text)
    if section is None:
        raise ValueError(f"{{model}} role: unknown section {text!r}")
    return title, MODEL_DOC_LABEL.format(section)


def render_roles(text: str, book: Book, here: str) -> str:
    """``text`` with every MyST role replaced by a Markdown link (inline code spans are left alone)."""
    out = []
    for chunk, is_code in _protect_code_spans(text):
        out.append(chunk if is_code else _ROLE.sub(lambda m: _role(m, book, here), chunk))
    return "".join(out)


def _protect_code_spans(text: str) -> list[tuple[str, bool]]:
    """Split ``text`` into (chunk, is inline code); a role's own backticks are not code spans."""
    chunks, position = [], 0
    pattern = re.compile(r"\{[a-z][a-z:-]*\}`[^`]+`|(`+)[^`]*?\1")
    for match in pattern.finditer(text):
        if match.group(0).startswith("{"):
            continue
        chunks.append((text[position:match.start()], False))
        chunks.append((match.group(0), True))
        position = match.end()
    chunks.append((text[position:], False))
    return chunks


def _role(match: re.Match, book: Book, here: str) -> str:
    role, text = match.group("role"), match.group("text").strip()
    explicit = _EXPLICIT.match(text)
    title, target = (explicit.group("title"), explicit.group("target").strip()) if explicit else (None, text)
    if role == "cite":
        keys = [key.strip() for key in target.split(",") if key.strip()]
        unknown = [key for key in keys if key not in book.citations]
        if unknown:
            raise ValueError(f"{{cite}}: unknown key(s) {unknown} in {here}")
        return "[" + "; ".join(f"[{book.citations[key]}]({book.url('book/bibliography')})" for key in keys) + "]"
    if role == "doc":
        doc = _resolve_doc(target, here)
        if doc not in book.titles:
            raise ValueError(f"{{doc}}: unknown page {target!r} in {here}")
        return f"[{title or book.titles[doc]}]({book.url(doc)})"
    if role == "model":
        link_text, anchor = _model_reference(text)
        return f"[{link_text}]({book.url('book/model', anchor)})"
    if role in ("prf:ref", "ref", "numref"):
        found = book.labels.get(target)
        if found is None:
            raise ValueError(f"{{{role}}}: unknown label {target!r} in {here}")
        if title and role == "numref":
            shown = title.replace("%s", found.text.split(" ", 1)[-1]).replace("{number}", found.text.split(" ", 1)[-1])
        else:
            shown = title or found.text
        return f"[{shown}]({book.url(found.doc, found.anchor)})"
    if role in ("math",):
        return f"${target}$"
    if role in ("class", "func", "meth", "attr", "mod", "data", "exc"):
        # a name of the library: its entry in the API appendix (Sphinx's anchor is the dotted name)
        name = target.lstrip("~.")
        shown = name.rsplit(".", 1)[-1] if target.startswith("~") else name
        suffix = "()" if role in ("func", "meth") else ""
        return f"[`{title or shown + suffix}`]({book.url('book/appendix_api', name)})"
    if role == "download":
        # a file of the repository beside the page: the notebook opened from a checkout (JupyterLab,
        # Binder, VS Code) or from the repository's web view finds it at the same relative path
        return f"[{title or target}]({target})"
    raise ValueError(f"{{{role}}}: role not known to the notebook editions (in {here})")


# --------------------------------------------------------------------------
# Markdown: directives to plain Markdown and HTML
# --------------------------------------------------------------------------


def _quote(lines: list[str]) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in lines]


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def render_markdown(text: str, book: Book, here: str) -> str:
    """A MyST Markdown cell as plain Markdown/HTML (solution edges as marker lines, see :func:`_split_solutions`)."""
    return "\n".join(_render_lines(text.splitlines(), book, here))


def _render_lines(lines: list[str], book: Book, here: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        directive = _DIRECTIVE.match(line)
        fence = _CODE_FENCE.match(line) if not directive else None
        if directive:
            close = _closing_fence(lines, i + 1, directive.group("fence"))
            options, body = _split_options(lines[i + 1:close])
            out.extend(_render_directive(directive.group("name"), directive.group("arg").strip(),
                                         options, body, book, here))
            i = close + 1
        elif fence:
            close = _closing_fence(lines, i + 1, fence.group("fence"))
            out.extend(lines[i:close + 1])
            i = close + 1
        elif _TARGET.match(line):
            i += 1
            # a target line and the blank line after it leave no trace
            if i < len(lines) and not lines[i].strip() and out and not out[-1].strip():
                i += 1
        elif re.match(r"^%", line):  # a MyST comment
            i += 1
        else:
            out.append(render_roles(line, book, here))
            i += 1
    return out


def _boxed(heading: str, body: list[str], book: Book, here: str) -> list[str]:
    inner = _strip_blank(_render_lines(body, book, here))
    return _quote([heading, ""] + inner if inner else [heading])


def _title_suffix(arg: str, book: Book, here: str) -> str:
    return f" ({render_roles(arg, book, here)})" if arg else ""


def _render_directive(name: str, arg: str, options: dict, body: list[str], book: Book, here: str) -> list[str]:
    label = options.get("label") or options.get("name")
    kind = name.split(":", 1)[1] if name.startswith("prf:") else name
    if name.startswith("prf:") and kind in PROOF_KINDS:
        numbered = book.labels.get(label).text if label in book.labels else kind.capitalize()
        return ["", *_boxed(f"**{numbered}**{_title_suffix(arg, book, here)}", body, book, here), ""]
    if name == "prf:proof":
        return ["", *_boxed("*Proof.*", body, book, here), ""]
    if name == "exercise":
        numbered = book.labels[label].text if label in book.labels else "Exercise"
        return ["", *_boxed(f"**{numbered}**{_title_suffix(arg, book, here)}", body, book, here), ""]
    if name == "admonition" or name in ("note", "tip", "warning", "important", "hint", "caution", "seealso"):
        title = arg or name.capitalize()
        return ["", *_boxed(f"**{render_roles(title, book, here)}**", body, book, here), ""]
    if name == "dropdown":
        summary = html.escape(arg) if arg else "Show"
        inner = _strip_blank(_render_lines(body, book, here))
        return ["", "<details>", f"<summary>{summary}</summary>", "", *inner, "", "</details>", ""]
    if name == "solution-start":
        return [f"\x00solution-start {arg}\x00"]
    if name == "solution-end":
        return ["\x00solution-end\x00"]
    if name == "solution":
        inner = _strip_blank(_render_lines(body, book, here))
        return [f"\x00solution-start {arg}\x00", *inner, "\x00solution-end\x00"]
    if name == "list-table":
        return ["", *_html_table(arg, options, body, book, here), ""]
    if name == "exercise-table":
        # Collected from every chapter while the book is built: link to the built table.
        return ["", f"*The table of exercises is made when the book is built: see it in "
                    f"[the online book]({book.url(here)}).*", ""]
    if name == "math":
        return ["$$", *body, "$$"]
    raise ValueError(f"{here}: directive {{{name}}} is not known to the notebook editions")


def _inline_html(text: str, book: Book, here: str) -> str:
    """Inline Markdown of a table cell as HTML (Markdown inside an HTML table is not rendered)."""
    text = render_roles(text, book, here)
    out = []
    for chunk, is_code in _protect_code_spans(text):
        if is_code:
            out.append(f"<code>{html.escape(chunk.strip('`').strip())}</code>")
            continue
        chunk = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', chunk)
        chunk = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", chunk)
        chunk = re.sub(r"(?<![\w*$\\])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", chunk)
        out.append(chunk)
    return "".join(out)


def _html_table(title: str, options: dict, body: list[str], book: Book, here: str) -> list[str]:
    rows: list[list[str]] = []
    for line in body:
        row = re.match(r"^\*\s+-\s?(.*)$", line)
        cell = re.match(r"^\s+-\s?(.*)$", line)
        if row:
            rows.append([row.group(1)])
        elif cell and rows:
            rows[-1].append(cell.group(1))
        elif line.strip() and rows:
            rows[-1][-1] += " " + line.strip()
    header_rows = int(options.get("header-rows", 0) or 0)
    label = options.get("name") or options.get("label")
    out = ["<table>"]
    if title:
        number = book.labels[label].text if label in book.labels else TABLE_WORD
        out.append(f"<caption><b>{number}.</b> {_inline_html(title, book, here)}</caption>")
    for index, row in enumerate(rows):
        tag = "th" if index < header_rows else "td"
        out.append("<tr>" + "".join(f"<{tag}>{_inline_html(c, book, here)}</{tag}>" for c in row) + "</tr>")
    out.append("</table>")
    return out


# --------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------


def _tidy(text: str) -> str:
    """Collapse runs of blank lines and strip the ends."""
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _split_solutions(text: str, current: str | None = None) -> list[tuple]:
    """Split rendered Markdown at solution markers: (text, the exercise label of the solution it is in, or None)
    and ("", label, edge) at each edge; ``current`` is the solution the text starts in."""
    parts, position = [], 0
    for match in _SOLUTION_MARK.finditer(text):
        parts.append((text[position:match.start()], current))
        current = match.group("label").strip() if match.group("edge") == "start" else None
        parts.append(("", current, match.group("edge")))
        position = match.end()
    parts.append((text[position:], current))
    return parts


def _is_exercise_template(source: str) -> bool:
    return any(re.match(r"^check_[a-z0-9_]+\(", line) for line in source.splitlines())


def _exercise_template(source: str) -> tuple[str, str]:
    """Split an exercise template into (the blank, the check call): the check is its last ``check_…(…)`` statement."""
    lines = source.rstrip("\n").splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if re.match(r"^check_[a-z0-9_]+\(", lines[index]):
            return "\n".join(lines[:index]).rstrip("\n"), "\n".join(lines[index:])
    raise ValueError(f"an exercise template (skip-execution cell) must end with a check_...(...) call:\n{source}")


def chapter_notebook(md_path: Path, book: Book, edition: str = "book", setup_source: str | None = None):
    """The chapter ``md_path`` as an nbformat notebook of ``edition`` ("book" or "student"), without outputs.

    ``setup_source``, when given, is the first cell (the Colab set-up).
    """
    import jupytext
    import nbformat

    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, got {edition!r}")
    md_path = Path(md_path)
    here = f"book/{md_path.stem}"
    source = jupytext.reads(md_path.read_text(encoding="utf-8"), fmt="md:myst")
    cells = []
    if setup_source is not None:
        cells.append(nbformat.v4.new_code_cell(setup_source, metadata={"tags": ["remove-cell"], "cellView": "form"}))
    solution: str | None = None  # label of the exercise whose solution we are in
    told: bool = False  # the solution's header has been written
    exercise: str | None = None  # label of the last exercise seen (its template follows it)

    def solution_title() -> str:
        number = book.labels[solution].text if solution in book.labels else "the exercise"
        return f"Solution to {number}"

    for cell in source.cells:
        if cell.cell_type == "markdown":
            for label in re.findall(r"^[`:]{3,}\{exercise\}.*\n(?::[a-z-]+:.*\n)*?:label:\s*(\S+)", cell.source,
                                    re.MULTILINE):
                exercise = label
            text = render_markdown(cell.source, book, here)
            for part in _split_solutions(text, solution):
                if len(part) == 3:  # an edge
                    _, label, edge = part
                    solution, told = (label, False) if edge == "start" else (None, False)
                    continue
                body, inside = part
                body = _tidy(body)
                if not body:
                    continue
                if inside is None:
                    cells.append(nbformat.v4.new_markdown_cell(body))
                elif edition == "book":
                    summary = solution_title() + (" (continued)" if told else "")
                    told = True
                    cells.append(nbformat.v4.new_markdown_cell(
                        f"<details>\n<summary><b>{summary}</b></summary>\n\n{body}\n\n</details>",
                        metadata={"tags": ["solution"]}))
            continue
        tags = list(cell.metadata.get("tags", []))
        if solution is not None:
            if edition == "book":
                if not told:
                    told = True
                    cells.append(nbformat.v4.new_markdown_cell(
                        f"**{solution_title()}** (the code below; its input is hidden, click to show it)",
                        metadata={"tags": ["solution"]}))
                metadata = {"tags": [*tags, "solution"], "jupyter": {"source_hidden": True}}
                cells.append(nbformat.v4.new_code_cell(cell.source, metadata=metadata))
            continue
        if "skip-execution" in tags and _is_exercise_template(cell.source):
            blank, check = _exercise_template(cell.source)
            usaav = {"exercise": exercise} if exercise else {}
            if edition == "student":
                cells.append(nbformat.v4.new_code_cell(blank, metadata={"tags": ["exercise-blank"], "usaav": usaav}))
                cells.append(nbformat.v4.new_code_cell(check, metadata={"tags": ["exercise-check"], "usaav": usaav}))
            else:
                # "Run All" must not stop at a blank: the book edition shows the template as text.
                cells.append(nbformat.v4.new_markdown_cell(
                    "Your turn: copy this into a new code cell, fill in the blank and run it.\n\n"
                    f"```python\n{cell.source.rstrip()}\n```", metadata={"tags": ["exercise-template"]}))
            continue
        if "skip-execution" in tags:
            # Not run by the book (too long for a page); "Run All" must not start it either.
            cells.append(nbformat.v4.new_markdown_cell(
                "The book does not run this cell (it takes long); to run it, copy it into a code cell.\n\n"
                f"```python\n{cell.source.rstrip()}\n```", metadata={"tags": ["not-run"]}))
            continue
        metadata = {"tags": tags} if tags else {}
        if set(tags) & {"hide-input", "remove-input"}:
            metadata["jupyter"] = {"source_hidden": True}
        cells.append(nbformat.v4.new_code_cell(cell.source, metadata=metadata))
        figure = ((cell.metadata.get("mystnb") or {}).get("figure") or {})
        if figure.get("name") or figure.get("caption"):
            found = book.labels.get(figure.get("name"))
            number = f"**{found.text}.** " if found else ""
            caption = " ".join(str(figure.get("caption", "")).split())
            cells.append(nbformat.v4.new_markdown_cell(f"{number}{render_roles(caption, book, here)}",
                                                       metadata={"tags": ["figure-caption"]}))
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": dict(source.metadata.get("kernelspec", {}))})
    return nb


#: What may never be left in a Markdown cell of an edition: directive fences, roles, targets.
MYST_LEFTOVERS = re.compile(r"(^[`:]{3,}\{[a-zA-Z:_-]+\}|\{[a-z][a-z:-]*\}`|^\([A-Za-z0-9_.:-]+\)=\s*$)", re.MULTILINE)


def myst_leftovers(text: str) -> list[str]:
    """The MyST syntax left in ``text`` (outside fenced code blocks): each offending line."""
    lines, found, i = text.splitlines(), [], 0
    while i < len(lines):
        fence = _CODE_FENCE.match(lines[i])
        if fence and not _DIRECTIVE.match(lines[i]):
            i = _closing_fence(lines, i + 1, fence.group("fence")) + 1
            continue
        line = "".join(chunk for chunk, code in _protect_code_spans(lines[i]) if not code)
        if _DIRECTIVE.match(lines[i]) or MYST_LEFTOVERS.search(line):
            found.append(lines[i])
        i += 1
    return found
