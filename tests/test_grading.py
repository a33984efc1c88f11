"""Autograding with otter-grader: planted student notebooks get full, partial and zero marks.

The notebooks have the shape of the student edition of chapter 1: for each
coding exercise a cell defining the function, then a cell calling its
self-check.  ``usaav.exercises.grading`` writes one otter test per exercise;
``otter generate`` packs them, ``otter run`` (no Docker) grades a notebook.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from usaav.exercises import EXERCISES
from usaav.exercises.grading import grade, write_otter_tests

otter = pytest.importorskip("otter", reason="otter-grader is not installed (pip install usaav[grader])")
nbformat = pytest.importorskip("nbformat")

OTTER = Path(sys.executable).with_name("otter")
SEED = 2718  # the instructor's grading seed: not the self-checks' default 0

RIGHT = {
    "my_gradient": "def my_gradient(X, beta):\n    return np.exp(beta * X @ X.T) @ X / len(X) ** 2",
    "my_gap": "def my_gap(X):\n    m = X.mean(axis=0)\n    return 1.0 - m @ m",
    "my_velocity": "def my_velocity(X, beta):\n    V = np.exp(beta * X @ X.T) @ X / len(X)\n"
                   "    return V - np.sum(V * X, axis=1, keepdims=True) * X",
    "my_angle_rate": "def my_angle_rate(phi, beta):\n    return -np.exp(beta * np.cos(phi)) * np.sin(phi)",
}

#: Two right, two wrong (a missing projection, a factor 2): half marks.
WRONG = {**RIGHT,
         "my_velocity": "def my_velocity(X, beta):\n    return np.exp(beta * X @ X.T) @ X / len(X)",
         "my_gap": "def my_gap(X):\n    m = X.mean(axis=0)\n    return 2 * (1.0 - m @ m)"}

#: Every answer fetched: from the library, from the checker's stack, from the heap; and the check patched.
CHEATING = {
    "my_gradient": "import gc\n\ndef my_gradient(X, beta):\n"
                   "    for thing in gc.get_objects():\n"
                   "        if type(thing).__name__ == 'Trial' and np.array_equal(thing.args[0], X):\n"
                   "            return thing.truth",
    "my_gap": "import usaav\n\ndef my_gap(X):\n    return usaav.collapse_gap(X)",
    "my_velocity": "import usaav\n\ndef my_velocity(X, beta):\n"
                   "    return usaav.velocity(usaav.kernels.USA(beta), X, None)",
    "my_angle_rate": "import sys\n\ndef my_angle_rate(phi, beta):\n    frame = sys._getframe(1)\n"
                     "    while 'trial' not in frame.f_locals:\n        frame = frame.f_back\n"
                     "    return frame.f_locals['trial'].truth",
}
PATCH = ("import usaav.exercises, usaav.exercises.checking\n"
         "usaav.exercises.checking.verdict = lambda name, body: usaav.exercises.CheckResult(name, True, 'correct', 'ok')")

CHECK_OF = {exercise.signature.split("(")[0]: exercise.name for exercise in EXERCISES if exercise.chapter == 1}


def student_notebook(path: Path, functions: dict, extra: str = "") -> Path:
    """A notebook in the student edition's shape: a cell with the function, then a cell with its check."""
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell("import numpy as np" + ("\n" + extra if extra else ""))]
    for name, code in functions.items():
        cells.append(new_code_cell(code))
        cells.append(new_code_cell(f"from usaav.exercises import {CHECK_OF[name]}\n\n{CHECK_OF[name]}({name})"))
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    here = tmp_path_factory.mktemp("autograder")
    write_otter_tests(1, here / "tests", SEED)
    subprocess.run([str(OTTER), "generate", "-t", "tests", "-o", "autograder.zip", "--no-requirements",
                    "--no-environment", "--no-config"], cwd=here, check=True, capture_output=True)
    return here / "autograder.zip"


def otter_scores(autograder: Path, notebook: Path) -> dict:
    out = notebook.parent / (notebook.stem + "-results")
    out.mkdir()
    subprocess.run([str(OTTER), "run", "-a", str(autograder), "-o", str(out), str(notebook)],
                   check=True, capture_output=True, timeout=600)
    tests = json.loads((out / "results.json").read_text())["tests"]
    return {test["name"]: test["score"] for test in tests if "score" in test}


def test_the_chapter_has_four_graded_exercises():
    assert set(CHECK_OF.values()) == {"check_energy_gradient", "check_collapse_gap", "check_velocity",
                                      "check_two_token_rate"}


@pytest.mark.slow
@pytest.mark.parametrize("functions, extra, expected", [
    (RIGHT, "", 4.0),
    (WRONG, "", 2.0),
    (CHEATING, "", 0.0),
    (RIGHT | {"my_velocity": CHEATING["my_velocity"]}, PATCH, 3.0),
], ids=["correct-full-marks", "wrong-partial", "cheating-zero", "patched-check-does-not-help"])
def test_otter_grades_a_student_notebook(autograder, tmp_path, functions, extra, expected):
    scores = otter_scores(autograder, student_notebook(tmp_path / "submission.ipynb", functions, extra))
    assert set(scores) == set(CHECK_OF.values())
    assert sum(scores.values()) == expected, scores


def test_grade_runs_the_check_in_a_fresh_process_with_the_grading_seed(capsys):
    import numpy as np

    namespace = {"np": np}
    exec(RIGHT["my_gap"], namespace)
    assert grade("check_collapse_gap", namespace["my_gap"], SEED) is True
    assert "check_collapse_gap: Correct." in capsys.readouterr().err
    exec(WRONG["my_gap"], namespace)
    assert grade("check_collapse_gap", namespace["my_gap"], SEED) is False
    assert "factor 2" in capsys.readouterr().err


def test_grade_refuses_a_missing_function_and_an_unknown_check(capsys):
    assert grade("check_velocity", None, SEED) is False
    assert "No function" in capsys.readouterr().err
    with pytest.raises(ValueError, match="check_name"):
        grade("check_nothing", len, SEED)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mean_field_rate", "many_clusters", "prompt_budget"])
def test_project_starting_notebook_runs_without_warnings(name):
    """The instructor page's three projects: each starting notebook runs as handed out."""
    import warnings

    notebook = nbformat.read(Path(__file__).resolve().parent.parent / "book" / "projects" / f"{name}.ipynb", 4)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cell in notebook.cells:
            if cell.cell_type == "code":
                exec(cell.source, namespace)
