"""The mutation pass (``python tests/mutants.py``) still applies to the code.

Running the mutants takes minutes and is a development step; what can rot
silently between runs is the text each mutation replaces: when the code
moves, a mutation finds nothing to break and the pass would report it
"stale" only when someone runs it.  This checks every mutation here.
"""

from __future__ import annotations

import pytest

from mutants import MUTATIONS, ROOT


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_every_mutation_finds_its_text_exactly_once(mutation):
    source = (ROOT / mutation.path).read_text()
    assert source.count(mutation.old) == 1, (
        f"{mutation.path} holds the text to mutate {source.count(mutation.old)} times; update tests/mutants.py"
    )
    for test in mutation.tests:  # a file, or one test of it ("tests/test_x.py::test_y")
        path, _, name = test.partition("::")
        assert (ROOT / path).is_file(), f"{path} does not exist"
        assert not name or f"def {name}(" in (ROOT / path).read_text(), f"{test} does not exist"
