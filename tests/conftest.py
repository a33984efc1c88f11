"""Test tiers, decided here and nowhere else (in the manner of scipy's ``conftest.py``).

Every test belongs to the *fast tier* unless it carries one of the marks
registered in ``pyproject.toml`` (``[tool.pytest.ini_options] markers``; set
in the test modules, next to the tests):

========  ==============================================================
slow      more than about 5 s of its own computation in this process
process   starts processes: the ``reproduce`` command in a child or with
          workers, concurrent or killed runs, Dask, wheel and sdist builds,
          a memory-measuring child
book      needs a built book (``make book``) or builds pages with Sphinx
browser   drives a headless Chromium (``tests/browser``)
========  ==============================================================

``pytest`` (``make test``) runs the fast tier; ``pytest --full`` (``make
test-all``) runs every tier; an explicit ``-m EXPRESSION`` replaces the tier
choice (``-m process`` runs the process tests alone), and a test named on the
command line (``tests/test_cli.py::test_killed_run_resumes_to_identical_numbers``)
runs whatever its tier.  Tests outside the fast tier are *deselected*, not
skipped, and the header says how to run them.

Session fixtures shared between modules live here too:
:func:`quick_reproduction` runs ``usaav reproduce all --quick`` once per
session for the CLI and experiment tests.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest


#: Session fixtures that put every test using them (directly or through another
#: fixture) in a tier, so that a new test of the quick reproduction is tiered alike.
FIXTURE_TIERS = {"quick_reproduction": "process"}


def _tiers(config) -> list[str]:
    """The marks that put a test outside the fast tier: every marker pyproject.toml registers."""
    return [line.split(":", 1)[0].strip() for line in config.getini("markers")]


def pytest_addoption(parser):
    parser.addoption(
        "--full", action="store_true", default=False,
        help="run every tier (slow, process, book, browser), not only the fast one",
    )


def _fast_tier_only(config) -> bool:
    return not config.getoption("--full") and not config.getoption("markexpr")


def pytest_report_header(config):
    if _fast_tier_only(config):
        return [f"usaav: fast tier ({', '.join(_tiers(config))} tests deselected; --full or make test-all runs them)"]
    return ["usaav: every tier" if config.getoption("--full") else "usaav: tests chosen by -m"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, mark in FIXTURE_TIERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(mark)
    if not _fast_tier_only(config):
        return
    tiers = _tiers(config)
    named = _named_tests(config)
    kept, deselected = [], []
    for item in items:
        outside = any(item.get_closest_marker(mark) for mark in tiers) and not _is_named(item.nodeid, named)
        (deselected if outside else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def _named_tests(config) -> list[str]:
    """Test ids given on the command line (``path::name``), relative to the root: they run in any tier."""
    named = []
    for arg in config.args:
        if "::" not in arg:
            continue
        path, rest = arg.split("::", 1)
        try:
            path = (config.invocation_params.dir / path).resolve().relative_to(config.rootpath).as_posix()
        except ValueError:
            continue
        named.append(f"{path}::{rest}")
    return named


def _is_named(nodeid: str, named: list[str]) -> bool:
    return any(nodeid == name or nodeid.startswith(name + "[") or nodeid.startswith(name + "::") for name in named)


@pytest.fixture(scope="session")
def quick_reproduction(tmp_path_factory):
    """One ``usaav reproduce all --quick --workers 2`` run: (output directory, exit status, stdout).

    Computed once per session (about a minute of CPU) and shared by every
    module that reads a whole quick reproduction; the tests only read it.
    """
    from usaav.__main__ import main

    out = tmp_path_factory.mktemp("reproduce")
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        status = main(["reproduce", "all", "--quick", "--workers", "2", "--out", str(out)])
    return out, status, buffer.getvalue()
