"""The layout of the library: which module may import which (issue 20; STYLE.md, one job per module).

Read from the source with ``ast`` (nothing is imported), so each test names
the import that breaks the rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "usaav"


def _imports(module: str) -> list[tuple[str, str]]:
    """``(imported module, name)`` for every ``from .x import y`` of ``usaav/<module>.py`` (dotted, relative to usaav)."""
    path = PACKAGE / (module.replace(".", "/") + ".py")
    package = module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[:len(package) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            found.extend((target, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize("module, forbidden", [
    ("formula", {"targets", "gauges", "scenarios", "kernels", "dynamics"}),   # a parser needs no physics
    ("gauges", {"targets", "scenarios", "dynamics", "maximizers"}),          # gauges sit below what uses them
    ("scenarios", {"targets"}),                                               # the table needs the gauges only
    ("observables", {"dynamics"}),                                            # observables read the kernel layer
])
def test_module_does_not_import_the_rooms_above_it(module, forbidden):
    imported = {target for target, _ in _imports(module)}
    assert not imported & forbidden, f"usaav/{module}.py imports {sorted(imported & forbidden)}"


@pytest.mark.parametrize("module", ["observables", "targets", "gauges", "formula", "scenarios",
                                    "experiments.gallery", "experiments.collapse"])
def test_no_private_name_of_dynamics_or_kernels_is_imported(module):
    private = [(target, name) for target, name in _imports(module)
               if target in ("dynamics", "kernels") and name.startswith("_")]
    assert not private, f"usaav/{module}.py imports private names {private}"
