r"""The options of the explorers: one table of ranges, one check per rule.

:data:`OPTION_RANGES` is the one written copy of every explorer's slider
ranges, choices and text limits in Python.  The JS controls
(``usaav/web/explorers/*.js``) and the constructors' docstrings state the
same ranges; ``tests/test_explorers.py`` checks both against this table
(:func:`describe_rule` is the sentence each docstring must carry).
"""

from __future__ import annotations

import numpy as np

from .. import scenarios as _scenarios
from .. import targets as _targets

__all__ = ["OPTION_RANGES", "SCENARIO_OVERRIDES", "SETUP_OPTIONS", "checked_options", "describe_rule", "scenario_data"]

#: Option ranges of each explorer: name -> {option: rule}, a rule being
#: ("choice", values), ("number", low, high, integer, step) (step None: any
#: integer), ("toggle",) for a checkbox or ("text", max_length).  Every option
#: is a control of the explorer except those in :data:`SETUP_OPTIONS`.
OPTION_RANGES = {
    "baseline_collapse": {
        "beta": ("number", 0.25, 4.0, False, 0.25),
        "n": ("number", 16, 256, True, 16),
        "seed": ("number", 0, 20, True, None),
    },
    "collapse": {
        "kernel": ("choice", ("baseline", "RoPE", "prompts", "distance bias")),
        "beta": ("number", 0.25, 4.0, False, 0.25),
        "n": ("number", 16, 256, True, 16),
        "seed": ("number", 0, 20, True, None),
    },
    "kernel_gallery": {
        "beta": ("number", 0.5, 6.0, False, 0.5),
        "n": ("number", 24, 240, True, 24),
        "seed": ("number", 0, 20, True, None),
        "t_max": ("choice", (5, 10, 20, 40)),
    },
    "collapse_layers": {
        "beta": ("number", 0.25, 4.0, False, 0.25),
        "n": ("number", 16, 128, True, 16),
        "seed": ("number", 0, 9, True, None),
    },
    "scenario_knob": {
        "scenario": ("choice", _scenarios.KEYS),
        "m": ("number", 1, 6, True, None),
        "beta": ("number", 0.5, 3.0, False, 0.5),
    },
    "sphere_viewer": {},
    "latitude": {
        "polar": ("number", 0, 180, True, 5),
        "theta": ("number", 0.25, 4.0, False, 0.25),
        "plane": ("choice", ("x1x2", "x1x3", "x2x3")),
        "flow": ("toggle",),
        "copies": ("choice", (1, 4)),  # an option from Python, not a control
    },
    "orbit_law": {
        "law": ("choice", _targets.ANGLE_LAWS),
        "width": ("number", 0.1, 1.0, False, 0.05),
        "quantile": ("text", 200),
        "n": ("number", 50, 800, True, 50),
    },
    "prompt_law": {
        "word": ("text", 24),
        "shape": ("choice", _targets.SHAPES),
        "n": ("number", 100, 1600, True, 100),
    },
    "prompts": {
        "m": ("number", 1, 10, True, None),
        "layout": ("choice", _targets.PROMPT_LAYOUTS),
        "seed": ("number", 0, 20, True, None),
    },
    "toeplitz": {f"c{k}": ("number", 0.0, 1.0, False, 0.05) for k in range(4)},
    "metastability": {
        "beta": ("number", 2, 10, True, None),
        "gap": ("number", 0.6, 1.2, False, 0.1),
        "clusters": ("number", 2, 3, True, None),
    },
}

#: Options that set an explorer up without being one of its controls.
SETUP_OPTIONS = {"latitude": {"copies"}}

#: Departures of an explorer from the defaults of the scenario table
#: (:data:`usaav.scenarios.TABLE`): explorer -> scenario key -> parameters.
#: Chapter 1's explorer shows four prompts with random phases in one plane
#: and a shorter distance bias than the §6.2 gallery.
SCENARIO_OVERRIDES = {
    "baseline_collapse": {},
    "collapse": {"prompts": {"n_prompts": 4, "layout": "random phases"}, "distance_bias": {"length": 0.1}},
    "kernel_gallery": {},
    "scenario_knob": {},
}


def _check_rule(key: str, value, rule: tuple):
    """``value`` of option ``key`` checked against its rule (see :data:`OPTION_RANGES`); returns it normalised."""
    kind = rule[0]
    if kind == "choice":
        if value not in rule[1]:
            raise ValueError(f"{key} must be one of {list(rule[1])}, got {value!r}")
        return value
    if kind == "toggle":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{key} must be True or False, got {type(value).__name__} {value!r}")
        return bool(value)
    if kind == "text":
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a string, got {type(value).__name__} {value!r}")
        if len(value) > rule[1]:
            raise ValueError(f"{key} must have at most {rule[1]} characters, got {len(value)}")
        return value
    _, low, high, integer, step = rule
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{key} must be a number, got {type(value).__name__}")
    if integer and float(value) != int(value):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    checked = int(value) if integer else float(value)
    if not low <= checked <= high:
        raise ValueError(f"{key} must lie in [{low}, {high}], got {value!r}")
    if step and abs(checked / step - round(checked / step)) > 1e-9:
        raise ValueError(f"{key} must be a multiple of {step} (the slider's step), got {value!r}")
    return checked


def checked_options(explorer: str, **values) -> dict:
    """The options of ``explorer`` checked against :data:`OPTION_RANGES` (each by its rule); returns them normalised.

    Raises ``ValueError``/``TypeError`` naming the option, the range and the value given.
    """
    ranges = OPTION_RANGES[explorer]
    return {key: _check_rule(key, value, ranges[key]) for key, value in values.items()}


def scenario_data(explorer: str) -> dict:
    """What an explorer built on :mod:`usaav.scenarios` needs besides its controls: the table and its overrides.

    The browser builds the kernels from these (``usaav/web/scenarios.js``), so
    the parameters have one source, and the static page's placeholder carries
    them with the options.
    """
    return {"scenarios": _scenarios.as_json()["scenarios"], "overrides": SCENARIO_OVERRIDES[explorer]}




def describe_rule(rule: tuple) -> str:
    """The words a constructor's docstring uses for ``rule``: ``"In [0.25, 4], a multiple of 0.25"``, ...

    A choice is ``{"a", "b"}`` (the type of its parameter), a text ``"At most
    24 characters"``, a toggle ``bool``.

    Examples
    --------
    >>> describe_rule(OPTION_RANGES["collapse"]["beta"]), describe_rule(OPTION_RANGES["collapse"]["seed"])
    ('In [0.25, 4], a multiple of 0.25', 'In [0, 20]')
    >>> describe_rule(OPTION_RANGES["kernel_gallery"]["t_max"])
    '{5, 10, 20, 40}'
    """
    kind = rule[0]
    if kind == "choice":
        return "{" + ", ".join(f'"{v}"' if isinstance(v, str) else f"{v:g}" for v in rule[1]) + "}"
    if kind == "toggle":
        return "bool"
    if kind == "text":
        return f"At most {rule[1]} characters"
    _, low, high, _, step = rule
    return f"In [{low:g}, {high:g}]" + (f", a multiple of {step:g}" if step else "")
