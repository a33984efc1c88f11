"""The floors of pyproject.toml are the versions `make test-oldest` tests (requirements-oldest.txt).

Every dependency with a lower bound (``>=``) or a pin (``==``) in
pyproject.toml, in the core or in any extra, must be pinned in
requirements-oldest.txt at exactly that version: a floor raised in one file
and not the other would leave the raised floor untested, or test versions
the library no longer allows. Inside the oldest environment (``make
test-oldest`` sets USAAV_OLDEST=1) the installed versions are checked too.
"""

from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading pyproject.toml needs Python >= 3.11 or tomli")
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


#: Extras not installed in the oldest environment (make test-oldest installs the others): the
#: instructor's grader, otter-grader 7.0, needs a newer ipywidgets than the floor of the plot extra.
LATEST_ONLY_EXTRAS = ("grader",)


def _floors() -> dict[str, str]:
    """Package → the lowest version pyproject.toml allows (from ``>=`` or ``==``), over the core and every extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for name, extra in project["optional-dependencies"].items():
        if name in LATEST_ONLY_EXTRAS:
            continue
        lines += extra
    floors: dict[str, str] = {}
    for line in lines:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        if name == "usaav":  # the extras that combine other extras
            continue
        lows = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==")]
        assert len(lows) == 1, f"{line!r} in pyproject.toml needs one floor (>= or ==)"
        assert floors.get(name, lows[0]) == lows[0], f"two floors for {name} in pyproject.toml"
        floors[name] = lows[0]
    return floors


def _oldest_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements-oldest.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line)
            assert match, f"requirements-oldest.txt: {line!r} is not 'name==version'"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_every_floor_of_pyproject_is_pinned_in_requirements_oldest():
    floors, pins = _floors(), _oldest_pins()
    assert {"numpy", "scipy", "matplotlib"} <= set(floors)
    missing = sorted(set(floors) - set(pins))
    assert not missing, f"floors of pyproject.toml not pinned in requirements-oldest.txt: {missing}"
    extra = sorted(set(pins) - set(floors))
    assert not extra, f"requirements-oldest.txt pins packages pyproject.toml does not list: {extra}"
    different = {name: (floors[name], pins[name]) for name in floors if Version(floors[name]) != Version(pins[name])}
    assert not different, f"floor in pyproject.toml vs pin in requirements-oldest.txt: {different}"


@pytest.mark.skipif(os.environ.get("USAAV_OLDEST") != "1", reason="only inside make test-oldest (USAAV_OLDEST=1)")
def test_the_oldest_environment_runs_the_oldest_versions():
    installed = {name: metadata.version(name) for name in _oldest_pins()}
    different = {name: (pin, installed[name]) for name, pin in _oldest_pins().items()
                 if Version(installed[name]) != Version(pin)}
    assert not different, f"pinned vs installed: {different}"
