r"""What a self-check watches while the reader's function runs: that it computes the answer itself.

A self-check that grades must not accept a function that *fetches* the
answer instead of computing it.  Two shortcuts are open to a function that
runs inside the checker's process:

1. **Calling the library's reference implementation** of the quantity
   checked (``usaav.velocity`` for the velocity exercise, the reduced-flow
   integral for the merger time, the checker's own internals).
2. **Looking into the checker**: walking up the call stack
   (``sys._getframe``, ``inspect``, a traceback's ``tb_frame``) or the heap
   (``gc.get_objects``, ``gc.get_referrers``) to find the right answer the
   checker computed before the call.

A :class:`Guard` watches one call of the reader's function.  Library calls
are seen by a profile hook (``sys.setprofile``, and ``threading.setprofile``
for threads the function starts), which sees every Python function call
whatever name it was imported under; its :class:`Policy` says which library
code is the reference (forbidden) and which is a helper the exercise may use
(the geometry of :mod:`usaav.sphere`, the vector field handed to the Heun
exercise, :func:`usaav.simulate` for the merger-time exercise).  Looking
into the checker is seen by an audit hook (:pep:`578`), installed once per
process and silent unless a guard is active: the events that hand out
frames (``sys._getframe``, ``tb_frame``, ``gi_frame``), search the heap
(``gc.get_objects``, ``gc.get_referrers``, ``gc.get_referents``), switch the
profile hook off (``sys.setprofile``, ``sys.settrace``), start processes or
load foreign code (``subprocess``, ``os.fork``, ``ctypes``), make code
objects by hand, or read the library's source files.

What it does not try to be: a sandbox against a determined adversary (a
C extension written for the purpose would pass).  It closes the shortcuts a
student finds in a notebook, and says so in plain words.  The autograder
(:mod:`usaav.exercises.grading`) adds inputs the student cannot have seen: a
seed chosen at grading time.
"""

from __future__ import annotations

import os
import sys
import threading
import _thread
from dataclasses import dataclass
from types import CodeType
from typing import Callable

__all__ = ["Breach", "Guard", "LIBRARY_POLICY", "Policy", "geometry_and", "library_file"]

#: The directory of the usaav package; code whose file lies under it is library code.
LIBRARY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SPHERE_FILE = os.path.join(LIBRARY_DIR, "sphere.py")
_VALIDATION_FILE = os.path.join(LIBRARY_DIR, "_validation.py")
_GUARD_FILE = os.path.abspath(__file__)


def library_file(filename: str) -> bool:
    """Whether a source file belongs to the usaav package."""
    return os.path.abspath(filename).startswith(LIBRARY_DIR + os.sep)


class Breach(BaseException):
    """Raised into the reader's function when the guard sees a shortcut.

    A ``BaseException``, so that ``except Exception`` in the reader's code
    does not swallow it; the guard records what it saw before raising, so
    swallowing it anyway changes nothing.
    """


@dataclass(frozen=True)
class Policy:
    """Which library code the reader's function may run.

    Attributes
    ----------
    allowed : callable
        ``allowed(code) -> bool`` for library code objects the function may
        call; whatever such code calls in turn is allowed too.
    reference : str
        What the forbidden code is, appended to the message
        (``", the reduced flow's prediction itself"``); empty by default.
    """

    allowed: Callable[[CodeType], bool]
    reference: str = ""


def _geometry_only(code: CodeType) -> bool:
    return code.co_filename in (_SPHERE_FILE, _VALIDATION_FILE)


#: The default: the reader's function may use the sphere's geometry helpers
#: (``normalize``, ``project_tangent``, ``rotate_in_plane``) and no other library code.
LIBRARY_POLICY = Policy(_geometry_only)


def geometry_and(*functions: Callable) -> Policy:
    """The default policy, plus the given functions of the library (and whatever they call)."""
    codes = frozenset(function.__code__ for function in functions)
    return Policy(lambda code: _geometry_only(code) or code in codes)

_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_INSPECTING = frozenset({"sys._getframe", "sys._current_frames", "gc.get_objects", "gc.get_referrers",
                         "gc.get_referents", "sys.setprofile", "sys.settrace", "code.__new__",
                         "function.__new__", "sys._getframemodulename"})
_PROCESSES = ("subprocess.", "os.fork", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "ctypes.")

_active: "Guard | None" = None
_hook_installed = False


def _audit(event: str, args: tuple) -> None:
    guard = _active
    if guard is None or guard.found is not None or threading.get_ident() not in guard.threads:
        return
    if event in _INSPECTING or (event == "object.__getattr__" and len(args) > 1 and args[1] in _FRAME_ATTRIBUTES):
        guard.breach("inspects_checker",
                     "Your function looks into the checker (its call stack, its memory or its profiler: "
                     f"{event}). A self-check only accepts a function that computes its answer from its "
                     "arguments.")
    if event.startswith(_PROCESSES):
        guard.breach("inspects_checker",
                     f"Your function starts another process or loads foreign code ({event}). A self-check only "
                     "accepts a function that computes its answer from its arguments, in plain Python.")
    if event == "open" and args and isinstance(args[0], str) and library_file(args[0]) \
            and args[0].endswith(".py"):
        guard.breach("library_call",
                     "Your function reads the library's source code. Write the computation yourself.")


class Guard:
    """Watch one call of the reader's function (a context manager; see the module docstring).

    Attributes
    ----------
    found : tuple or None
        ``(code, message)`` of the first shortcut seen, or None.
    calls : dict
        How many times each code object in ``counted`` was entered.
    """

    def __init__(self, policy: Policy = LIBRARY_POLICY, counted: tuple[CodeType, ...] = ()):
        self.policy = policy
        self.found: tuple[str, str] | None = None
        self.calls = {code: 0 for code in counted}
        self.threads: set[int] = set()
        self._verdicts: dict[CodeType, bool] = {}
        self._passed: dict[int, object] = {}  # per thread: the frame of the allowed call we are inside
        self._saved = None

    def breach(self, code: str, message: str):
        if self.found is None:
            self.found = (code, message)
        raise Breach(message)

    def _forbidden(self, code: CodeType) -> bool | None:
        """True for forbidden library code, False for allowed library code, None for other code."""
        known = self._verdicts.get(code)
        if known is None and code not in self._verdicts:
            own = code.co_filename == _GUARD_FILE  # the guard's own __exit__
            known = (not self.policy.allowed(code)) if library_file(code.co_filename) and not own else None
            self._verdicts[code] = known
        return known

    def _profile(self, frame, event, arg):
        if event == "c_call":
            if arg is _thread.start_new_thread and not frame.f_code.co_filename.endswith("threading.py"):
                self.breach("inspects_checker", "Your function starts a thread by hand (_thread): the checker cannot "
                                                "watch it. Compute the answer in the function itself.")
            return
        if event == "call":
            code = frame.f_code
            if code in self.calls:
                self.calls[code] += 1
            ident = threading.get_ident()
            if ident in self._passed:
                return
            verdict = self._forbidden(code)
            if verdict is False:
                self._passed[ident] = frame
            elif verdict:
                name = getattr(code, "co_qualname", code.co_name)
                module = os.path.relpath(code.co_filename, os.path.dirname(LIBRARY_DIR))
                self.breach("library_call",
                            f"Your function calls the library's own code ({name} in {module}){self.policy.reference} "
                            "instead of computing the answer itself. The exercise asks you to write the computation "
                            "yourself, so the check does not accept that.")
        elif event == "return":
            ident = threading.get_ident()
            if self._passed.get(ident) is frame:
                del self._passed[ident]

    def _thread_hook(self, frame, event, arg):
        """The first profile event of a thread the reader's function started: watch it from now on."""
        sys.setprofile(self._profile)
        self.threads.add(threading.get_ident())
        return self._profile(frame, event, arg)

    def __enter__(self):
        global _active, _hook_installed
        if not _hook_installed:
            sys.addaudithook(_audit)
            _hook_installed = True
        self.threads.add(threading.get_ident())
        self._saved = (sys.getprofile(), threading.getprofile() if hasattr(threading, "getprofile") else None)
        threading.setprofile(self._thread_hook)
        sys.setprofile(self._profile)
        _active = self  # last: the guard's own sys.setprofile is not the reader's
        return self

    def __exit__(self, kind, value, traceback):
        global _active
        _active = None  # first: the guard's own sys.setprofile is not the reader's
        tampered = sys.getprofile() != self._profile  # a bound method: compare with ==, not is
        sys.setprofile(self._saved[0])
        threading.setprofile(self._saved[1])
        if tampered and self.found is None:
            self.found = ("inspects_checker", "Your function switched off the checker's watch (its profiler). "
                                              "A self-check only accepts a function that computes its answer "
                                              "from its arguments.")
        return False
