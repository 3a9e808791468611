"""A student's file, imported and called so that any failure is one line.

``load(path)`` imports the file as a fresh module; ``call(path, function, *args)`` calls one
of its functions. A syntax error, an exception while importing or inside the call, and an
unfinished stub (``NotImplementedError``) become a ``StudentError`` whose message names the
file and the line, e.g. ``dense_backward.py:31: IndexError: tuple index out of range``,
never a traceback. The time limit is the runner's (``runner.py``: one subprocess per file).
"""

import importlib.util
import itertools
import os
import traceback

import numpy

_counter = itertools.count()


class StudentError(Exception):
    """What went wrong in the student's code, as one line; ``kind`` is "error" or
    "not_started" (the stub's NotImplementedError)."""

    def __init__(self, message, kind="error"):
        super().__init__(message)
        self.kind = kind


def load(path):
    """The student's file as a module (a new one on every call)."""
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as file:
            source = file.read()
    except (OSError, UnicodeDecodeError) as error:
        raise StudentError(f"{name}: cannot be read ({error})") from None
    try:
        code = compile(source, path, "exec")
    except SyntaxError as error:
        where = f"{name}:{error.lineno}" if error.lineno else name
        raise StudentError(f"{where}: syntax error: {error.msg}") from None
    except ValueError as error:  # e.g. a NUL byte in the source
        raise StudentError(f"{name}: not Python source ({error})") from None
    spec = importlib.util.spec_from_loader(f"minigan_exercise_{next(_counter)}", loader=None,
                                           origin=path)
    module = importlib.util.module_from_spec(spec)
    module.__file__ = path
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as error:  # exit() in a student's file too
        raise _one_line(error, path, "while importing the file") from None
    return module


def function(module, path, name):
    """The function ``name`` of the student's module, or a StudentError saying it is
    missing."""
    fn = getattr(module, name, None)
    if not callable(fn):
        raise StudentError(f"{os.path.basename(path)}: defines no function {name}(); keep "
                           "the stub's name and signature")
    return fn


def call(path, fn, *args, **kwargs):
    """fn(*args, **kwargs); any exception becomes a StudentError at the student's line."""
    try:
        with numpy.errstate(all="ignore"):  # an overflow shows in the result, not as a warning
            return fn(*args, **kwargs)
    except (Exception, SystemExit) as error:
        raise _one_line(error, path, f"in {getattr(fn, '__name__', 'the function')}()") \
            from None


def _one_line(error, path, context):
    name = os.path.basename(path)
    if isinstance(error, NotImplementedError):
        what = context.removeprefix("in ").replace("while importing ", "")
        return StudentError(f"{name}: not started yet: {what} still raises "
                            "NotImplementedError; replace it with your code", "not_started")
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if os.path.abspath(f.filename) == os.path.abspath(path)]
    line = f":{mine[-1].lineno}" if mine else ""
    message = " ".join(str(error).split()) or "(no message)"
    if isinstance(error, SystemExit):
        return StudentError(f"{name}{line}: exit() called {context}")
    return StudentError(f"{name}{line}: {type(error).__name__}: {message} ({context})")

