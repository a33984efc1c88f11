r"""Autograding the coding exercises with otter-grader: one test per exercise, graded in a fresh process.

A student notebook (the student edition of a chapter) holds, for each coding
exercise, a cell defining the function (``def my_velocity(X, beta): ...``)
and a cell calling its self-check.  Otter-grader (``otter run``, no Docker)
executes the notebook and then runs one test per exercise in the notebook's
namespace; each test calls :func:`grade`, which

1. serialises the student's function by value (``dill``, which otter-grader
   itself depends on),
2. runs the self-check on it in a **fresh Python process**
   (``python -m usaav.exercises.grading run CHECK SEED``), so that nothing
   the notebook did to the library in its own process (a patched check, a
   replaced NumPy function) reaches the grading, and
3. uses a **seed chosen by the instructor** when the tests are written and
   kept in the autograder archive, so the inputs are ones the student's
   notebook has never seen;

the check's guard (:mod:`usaav.exercises.guard`) refuses a function that
calls the library's answer or looks into the checker, so a cheating
submission scores zero.  Each exercise is worth one point.

Writing the tests of a chapter (then ``otter generate -t DIR`` makes the
autograder archive, ``otter run -a autograder.zip NOTEBOOK`` grades)::

    python -m usaav.exercises.grading tests --chapter 1 --seed 2718 --out tests-ch1
"""

from __future__ import annotations

import argparse
import base64
import json
import pprint
import subprocess
import sys
from pathlib import Path

from .._validation import check_int

__all__ = ["grade", "write_otter_tests"]

#: Seconds a graded exercise may take (the merger-time simulation takes a few).
TIME_LIMIT = 300


def _catalogue():
    from .catalogue import EXERCISES  # at call time: the subprocess entry point needs no catalogue

    return {exercise.name: exercise for exercise in EXERCISES}


def _run_check(check_name: str, function, seed: int) -> dict:
    """The verdict of one check on ``function`` as a dict, in this process."""
    import inspect

    check = _catalogue()[check_name].check
    seeded = "seed" in inspect.signature(check).parameters
    result = check(function, seed=seed) if seeded else check(function)
    return {"passed": result.passed, "diagnosis": result.diagnosis, "message": str(result)}


def grade(check_name: str, function, seed: int) -> bool:
    """Grade ``function`` with the self-check ``check_name`` in a fresh process; the verdict goes to stderr.

    The verdict is written to standard error, not standard output, because
    otter-grader's tests are doctests that compare the standard output with
    ``True``.

    Parameters
    ----------
    check_name : str
        A check of :data:`usaav.exercises.EXERCISES` (``"check_velocity"``).
    function : callable
        The student's function, as defined in the notebook.
    seed : int
        The grading seed (the instructor's, kept out of the student's sight).

    Returns
    -------
    bool
        Whether the check accepted the function.
    """
    if check_name not in _catalogue():
        raise ValueError(f"check_name must name a self-check of usaav.exercises.EXERCISES, got {check_name!r}")
    check_int(seed, "seed", minimum=0)
    if not callable(function):
        _say(f"{check_name}: Not yet. No function to grade (got {type(function).__name__}).")
        return False
    import dill  # the grader's extra (otter-grader depends on it)

    try:
        payload = base64.b64encode(dill.dumps(function, recurse=True))
    except Exception as error:  # a function that cannot leave the notebook cannot be graded
        _say(f"{check_name}: Not yet. Your function could not be sent to the grader: {error}.")
        return False
    try:
        done = subprocess.run([sys.executable, "-m", "usaav.exercises.grading", "run", check_name, str(seed)],
                              input=payload, capture_output=True, timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        _say(f"{check_name}: Not yet. Grading took longer than {TIME_LIMIT} s.")
        return False
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        verdict = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        _say(f"{check_name}: Not yet. The grader could not run your function "
              f"({done.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or ['no output']}).")
        return False
    _say(verdict["message"])
    return bool(verdict["passed"])


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def write_otter_tests(chapter: int, directory, seed: int) -> list[Path]:
    """Write one otter-grader test (OK format) per coding exercise of ``chapter`` into ``directory``.

    Each test calls :func:`grade` on the student's function (named by the
    exercise's signature) with ``seed``; it is worth one point.  Returns the
    paths written.
    """
    check_int(chapter, "chapter", minimum=1)
    check_int(seed, "seed", minimum=0)
    exercises = [exercise for exercise in _catalogue().values() if exercise.chapter == chapter]
    if not exercises:
        raise ValueError(f"chapter must be a chapter with coding exercises (1 to 7), got {chapter}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for exercise in exercises:
        function = exercise.signature.split("(")[0]
        code = (">>> from usaav.exercises.grading import grade\n"
                f">>> grade({exercise.name!r}, globals().get({function!r}), {seed})\n"
                "True\n")
        test = {"name": exercise.name, "points": 1,
                "suites": [{"cases": [{"code": code, "hidden": False, "locked": False}],
                            "scored": True, "setup": "", "teardown": "", "type": "doctest"}]}
        path = directory / f"{exercise.name}.py"
        path.write_text("OK_FORMAT = True\n\ntest = " + pprint.pformat(test, width=110) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m usaav.exercises.grading", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    tests = commands.add_parser("tests", help="write the otter-grader tests of a chapter")
    tests.add_argument("--chapter", type=int, required=True)
    tests.add_argument("--seed", type=int, required=True)
    tests.add_argument("--out", required=True)
    run = commands.add_parser("run", help="(internal) grade the dill-pickled function read from stdin")
    run.add_argument("check")
    run.add_argument("seed", type=int)
    options = parser.parse_args(argv)
    if options.command == "tests":
        for path in write_otter_tests(options.chapter, options.out, options.seed):
            print(path)
        return 0
    import dill

    function = _load_pristine(dill, base64.b64decode(sys.stdin.buffer.read()))
    print(json.dumps(_run_check(options.check, function, options.seed)))
    return 0


def _load_pristine(dill, payload: bytes):
    """Unpickle the student's function, then undo whatever it brought along into the library's modules.

    dill pickles a module that is not installed in site-packages (an
    editable install, a checkout on ``sys.path``) *with its state*, so a
    notebook that patched, say, the checker's verdict would carry the patch
    into the grading process.  The library's modules are snapshotted before
    unpickling and restored after: the function keeps its references to
    them, but they hold the library's own code again.
    """
    _catalogue()  # import every module the checks use before the snapshot
    snapshot = {name: dict(module.__dict__) for name, module in sys.modules.items()
                if name == "usaav" or name.startswith("usaav.")}
    function = dill.loads(payload)
    for name, state in snapshot.items():
        module = sys.modules[name]
        module.__dict__.clear()
        module.__dict__.update(state)
    return function


if __name__ == "__main__":
    sys.exit(_main())
