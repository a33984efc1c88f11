r"""Interactive explorers for the book (ipywidgets + matplotlib).

The pattern is one function, :func:`explore`: give it an ``update`` function
and the controls it takes as keywords; it returns a widget whose output area
is redrawn (only when a slider is released) with whatever ``update`` returns
— a figure, axes, text or any displayable object.

The book's explorers run in the reader's browser instead
(:mod:`usaav.explorers`); this module keeps the pattern for readers' own
notebooks and the tables of numbers the chapters print.

Examples
--------
>>> from usaav import widgets
>>> import ipywidgets
>>> import contextlib, io
>>> with contextlib.redirect_stdout(io.StringIO()):  # outside a kernel the output prints
...     box = widgets.explore(lambda k: f"k = {k}", k=ipywidgets.IntSlider(value=2, min=0, max=5))
>>> sorted(box.controls)
['k']
>>> box.update(k=3)
'k = 3'
"""

from __future__ import annotations

from typing import Callable

import ipywidgets as ipw
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "explore",
]


# --------------------------------------------------------------------------
# The pattern
# --------------------------------------------------------------------------


def _control(name, value):
    if isinstance(value, ipw.ValueWidget):
        widget = value
    else:
        widget = ipw.interactive.widget_from_abbrev(value)
        if widget is None:
            raise TypeError(f"control {name!r} must be an ipywidgets widget or an abbreviation, got {value!r}")
    if not widget.description:
        widget.description = name
    if hasattr(widget, "continuous_update"):
        widget.continuous_update = False
    widget.style.description_width = "initial"
    widget.layout.margin = "2px 16px 2px 0px"
    return widget


def _show(result) -> None:
    """Display what an update returned; close figures so nothing is shown twice."""
    if result is None:
        return
    if isinstance(result, Axes):
        result = result.figure
    if isinstance(result, Figure):
        display(result)
        plt.close(result)
    elif isinstance(result, (tuple, list)):
        for item in result:
            _show(item)
    elif isinstance(result, str):
        print(result)
    else:
        display(result)


def explore(update: Callable, /, **controls) -> ipw.VBox:
    """An explorer: controls on top, the output of ``update(**values)`` below.

    Parameters
    ----------
    update : callable
        Called with one keyword per control; returns a figure, axes, string,
        any displayable object, or a tuple of those (displayed in order).
        Figures are closed after display.
    **controls : ipywidgets.ValueWidget or abbreviation
        ``name=widget`` (e.g. ``beta=FloatSlider(...)``) or an
        ``ipywidgets.interact`` abbreviation such as ``(0.0, 5.0, 0.5)`` or a
        list of options.  Sliders update on release only.

    Returns
    -------
    ipywidgets.VBox
        Also carries ``.controls`` (name → widget), ``.output`` (the Output
        widget) and ``.update`` (the raw ``update`` function, for timing).
    """
    if not callable(update):
        raise TypeError(f"update must be callable, got {type(update).__name__}")
    if not controls:
        raise TypeError("explore needs at least one control")
    widgets = {name: _control(name, value) for name, value in controls.items()}

    def redraw(**values):
        _show(update(**values))

    output = ipw.interactive_output(redraw, widgets)
    layout = ipw.Layout(flex_flow="row wrap")
    box = ipw.VBox([ipw.HBox(list(widgets.values()), layout=layout), output])
    box.controls = widgets
    box.output = output
    box.update = update
    return box
