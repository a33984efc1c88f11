"""Tables of numbers on a notebook page: rows of formatted cells shown as Markdown.

The book prints its measured numbers (convergence orders, verdicts of the
experiments, …) as tables rather than as lines of ``print``; a Markdown
table typesets its LaTeX headers with the page's math and reflows on a
phone.  Only IPython's display machinery is used, no matplotlib.
"""

from __future__ import annotations

import re

from IPython.display import Markdown, display

__all__ = ["show_table", "show_verdicts", "table_markdown"]


#: A cell that holds only a number (or numbers: "−0.5 ± 0.1", "**1.0e-05**"); its hyphens are minus signs.
_NUMBER = re.compile(r"[\d\s.,%+\-\N{MINUS SIGN}±()*eE×/]+")


def table_markdown(header, rows) -> str:
    """The Markdown source of a table: first column left-aligned, the others right-aligned.

    In a cell that holds only numbers, the hyphen-minus is written as the
    minus sign U+2212 ("−0.5", "1.0e−05"); other cells are left as they are.

    >>> print(table_markdown(["n", "gap"], [[64, "1e-3"]]))
    | n | gap |
    |:---|---:|
    | 64 | 1e−3 |
    """
    header = [str(cell) for cell in header]
    if not header:
        raise ValueError("header must name at least one column, got none")
    rows = [list(row) for row in rows]
    for k, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"rows[{k}] has {len(row)} cells but header has {len(header)} columns")

    def cell(text):
        text = str(text)
        if _NUMBER.fullmatch(text) and any(c.isdigit() for c in text):
            text = text.replace("-", "\N{MINUS SIGN}")  # typeset as a minus, not a hyphen
        return text.replace("|", r"\|")  # a bare | would end the cell

    lines = ["| " + " | ".join(map(cell, header)) + " |", "|:---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def show_table(header, rows) -> None:
    """Display rows of formatted cells as a Markdown table (see :func:`table_markdown`)."""
    display(Markdown(table_markdown(header, rows)))


def show_verdicts(result) -> None:
    """The paper's predictions checked by an experiment ``result`` (:mod:`usaav.experiments`), with PASS/FAIL."""
    show_table(["prediction", "measured", "threshold", "source", "verdict"],
               [[v.name, f"{v.value:.3g}", f"{v.relation} {v.threshold:.3g}",
                 v.reference, "**PASS**" if v.passed else "**FAIL**"]
                for v in result.verdicts()])
