r"""Result objects and verdicts shared by the experiments (MODEL.md §6).

Every experiment returns a frozen dataclass whose fields are plain NumPy
arrays plus a ``params`` dict of the parameters used.  The base class gives
each of them the same three views:

* ``table()``: a list of dict rows (one per model/size/β ...), no pandas;
* ``to_dict()`` / ``to_json()``: every field as JSON-ready lists (NaN → ``null``);
* ``verdicts()``: the predictions of the paper checked as numbers, a list of
  :class:`Verdict` (name, value, threshold, passed).

:func:`merge_verdicts` keeps one summary of the verdicts of every experiment
run into one output directory (``verdicts.json`` of ``usaav reproduce``).

Small statistics helpers (mean ± one standard error, least-squares lines)
live here too, so that every experiment aggregates in the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = [
    "ExperimentResult",
    "Verdict",
    "check_verdicts_summary",
    "jsonable",
    "linear_fit",
    "mean_sem",
    "merge_verdicts",
]

_RELATIONS = {
    "<": lambda v, t: v < t,
    "<=": lambda v, t: v <= t,
    ">": lambda v, t: v > t,
    ">=": lambda v, t: v >= t,
    "==": lambda v, t: v == t,
}


@dataclass(frozen=True)
class Verdict:
    """One prediction checked as a number: ``value relation threshold``.

    Attributes
    ----------
    experiment : str
        Which experiment produced it ("collapse", "gallery", ...).
    name : str
        What is checked, in words.
    value : float
        The measured number.
    threshold : float
        The bound it is compared with.
    relation : {"<", "<=", ">", ">=", "=="}
    passed : bool
    reference : str
        Where the prediction comes from: a section of MODEL.md or a result of the paper.

    Examples
    --------
    >>> v = Verdict.check("demo", "gap at T", 3e-12, "<", 1e-8, "the paper's §6.1")
    >>> v.passed, str(v)
    (True, "PASS  demo: gap at T = 3e-12 < 1e-08  [the paper's §6.1]")
    """

    experiment: str
    name: str
    value: float
    threshold: float
    relation: str
    passed: bool
    reference: str = ""

    @classmethod
    def check(cls, experiment: str, name: str, value, relation: str, threshold, reference: str = "") -> "Verdict":
        """Build a verdict, evaluating ``value relation threshold`` (NaN fails)."""
        if relation not in _RELATIONS:
            raise ValueError(f"relation must be one of {tuple(_RELATIONS)}, got {relation!r}")
        value, threshold = float(value), float(threshold)
        passed = bool(np.isfinite(value) and _RELATIONS[relation](value, threshold))
        return cls(experiment, name, value, threshold, relation, passed, reference)

    def __str__(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        ref = f"  [{self.reference}]" if self.reference else ""
        return f"{status}  {self.experiment}: {self.name} = {self.value:.3g} {self.relation} {self.threshold:.3g}{ref}"

    def to_dict(self) -> dict:
        return jsonable(
            {f.name: getattr(self, f.name) for f in fields(self)}
        )


def jsonable(value: Any) -> Any:
    """Convert arrays, NumPy scalars, tuples and NaN to JSON-ready Python objects (NaN/inf → ``None``)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, range)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.str_):
        return str(value)
    return value


#: The fields of one stored verdict (:meth:`Verdict.to_dict`) and the JSON types each may hold.
_VERDICT_FIELDS = {
    "experiment": (str,),
    "name": (str,),
    "value": (int, float, type(None)),
    "threshold": (int, float, type(None)),
    "relation": (str,),
    "passed": (bool,),
    "reference": (str,),
}


def _json_kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def check_verdicts_summary(summary) -> None:
    """Raise ValueError unless ``summary`` has the layout :func:`merge_verdicts` writes.

    The file ``verdicts.json`` may have been edited by hand: every experiment
    entry must be an object whose ``"verdicts"`` is a list of verdicts with
    the fields of :class:`Verdict`, each of its JSON type (``"passed"`` a
    boolean, not the string ``"false"``), numbers finite or ``null``, the
    relation one of ``< <= > >= ==``.

    Raises
    ------
    ValueError
        Naming the first wrong place (``experiments.gallery: expected an object, got a number``).

    Examples
    --------
    >>> check_verdicts_summary(merge_verdicts(None, "a", [Verdict.check("a", "gap", 0.0, "<", 1.0)]))
    >>> check_verdicts_summary({"experiments": {"gallery": 5}})
    Traceback (most recent call last):
    ...
    ValueError: experiments.gallery: expected an object, got a number
    """
    if not isinstance(summary, dict):
        raise ValueError(f"the file: expected an object, got {_json_kind(summary)}")
    experiments = summary.get("experiments", {})
    if not isinstance(experiments, dict):
        raise ValueError(f"experiments: expected an object, got {_json_kind(experiments)}")
    for name, entry in experiments.items():
        where = f"experiments.{name}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected an object, got {_json_kind(entry)}")
        if not isinstance(entry.get("quick", False), bool):
            raise ValueError(f"{where}.quick: expected a boolean, got {_json_kind(entry['quick'])}")
        verdicts = entry.get("verdicts")
        if not isinstance(verdicts, list):
            raise ValueError(f"{where}.verdicts: expected a list, got {_json_kind(verdicts)}")
        for index, verdict in enumerate(verdicts):
            here = f"{where}.verdicts[{index}]"
            if not isinstance(verdict, dict):
                raise ValueError(f"{here}: expected an object, got {_json_kind(verdict)}")
            for key, kinds in _VERDICT_FIELDS.items():
                if key not in verdict:
                    raise ValueError(f"{here}: the field {key!r} is missing")
                value = verdict[key]
                # bool is an int in Python: a number field must not hold true/false
                if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
                    raise ValueError(f"{here}.{key}: expected {_json_kind(kinds[0]())}, got {_json_kind(value)}")
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"{here}.{key}: expected a finite number or null, got {value}")
            if verdict["relation"] not in _RELATIONS:
                raise ValueError(f"{here}.relation: expected one of {' '.join(_RELATIONS)}, got {verdict['relation']!r}")
    try:
        json.dumps(experiments, allow_nan=False)
    except ValueError as error:  # a NaN or infinity among the run's facts
        raise ValueError(f"experiments: {error}") from None


def merge_verdicts(summary: dict | None, experiment: str, verdicts: list[Verdict], **run) -> dict:
    """``summary`` with the verdicts of ``experiment`` replaced by ``verdicts``; other experiments kept.

    Parameters
    ----------
    summary : dict or None
        A previous result of this function (the content of ``verdicts.json``),
        or ``None`` to start afresh.
    experiment : str
        The experiment run ("collapse", "mean-field", ...).
    verdicts : list of Verdict
    **run
        Facts about the run kept with its verdicts (``quick=True``,
        ``usaav_version=...``, ``library_digest=...``).

    Raises
    ------
    ValueError
        When ``summary`` is not of the layout this function writes
        (:func:`check_verdicts_summary`).

    Returns
    -------
    dict
        ``{"experiments": {name: {**run, "passed", "failed", "verdicts"}},
        "verdicts": [every verdict, experiments in name order, each with
        "experiment_run"], "passed", "failed", "quick"}``; ``quick`` is true
        when every recorded experiment ran with ``quick``.

    Examples
    --------
    >>> v = Verdict.check("demo", "gap", 0.0, "<", 1.0)
    >>> s = merge_verdicts(None, "a", [v], quick=True)
    >>> s = merge_verdicts(s, "b", [v, v], quick=False)
    >>> sorted(s["experiments"]), s["passed"], s["failed"], s["quick"]
    (['a', 'b'], 3, 0, False)
    """
    if summary is not None:
        check_verdicts_summary(summary)
    experiments = dict((summary or {}).get("experiments") or {})
    entries = [v.to_dict() for v in verdicts]
    failed = sum(not entry["passed"] for entry in entries)
    experiments[experiment] = jsonable({**run, "passed": len(entries) - failed, "failed": failed,
                                        "verdicts": entries})
    merged = []
    for name in sorted(experiments):
        merged += [{"experiment_run": name, **entry} for entry in experiments[name].get("verdicts", [])]
    failed = sum(not entry.get("passed", False) for entry in merged)
    return {
        "experiments": {name: experiments[name] for name in sorted(experiments)},
        "verdicts": merged,
        "passed": len(merged) - failed,
        "failed": failed,
        "quick": all(bool(entry.get("quick", False)) for entry in experiments.values()),
    }


def mean_sem(values: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and one standard error :math:`s/\sqrt R` over ``axis`` (0 when there is one sample).

    >>> m, se = mean_sem(np.array([1.0, 2.0, 3.0]), axis=0)
    >>> float(m), round(float(se), 6)
    (2.0, 0.57735)
    """
    values = np.asarray(values, dtype=np.float64)
    count = values.shape[axis]
    mean = values.mean(axis=axis)
    if count < 2:
        return mean, np.zeros_like(mean)
    return mean, values.std(axis=axis, ddof=1) / np.sqrt(count)


def linear_fit(x, y) -> tuple[float, float, float]:
    r"""Least-squares line :math:`y\approx \text{slope}\,x+\text{intercept}` and its :math:`R^2`.

    >>> slope, intercept, r2 = linear_fit([0, 1, 2], [1, 3, 5])
    >>> round(slope, 12), round(intercept, 12), round(r2, 12)
    (2.0, 1.0, 1.0)
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 2 or np.ptp(x) == 0:
        return math.nan, math.nan, math.nan
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / total if total > 0 else 1.0
    return float(slope), float(intercept), float(r2)


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """Base class of the experiment results: plain arrays plus ``params``.

    Subclasses are frozen dataclasses; they implement :meth:`table` and
    :meth:`verdicts`.
    """

    #: Short name of the experiment ("collapse", "gallery", ...).
    experiment = "experiment"

    def table(self) -> list[dict]:  # pragma: no cover - overridden
        raise NotImplementedError

    def verdicts(self) -> list[Verdict]:  # pragma: no cover - overridden
        raise NotImplementedError

    def to_dict(self) -> dict:
        """All fields, the table and the verdicts as JSON-ready Python objects."""
        out = {"experiment": self.experiment}
        for f in fields(self):
            out[f.name] = jsonable(getattr(self, f.name))
        out["table"] = jsonable(self.table())
        out["verdicts"] = [v.to_dict() for v in self.verdicts()]
        return out

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` serialised with :func:`json.dumps` (strict: no NaN tokens)."""
        kwargs.setdefault("allow_nan", False)
        return json.dumps(self.to_dict(), **kwargs)

    @property
    def passed(self) -> bool:
        """Whether every verdict passed."""
        return all(v.passed for v in self.verdicts())
