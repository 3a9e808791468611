"""Grading a folder of exercise files: each file in a subprocess with a time limit.

``check_directory(directory, names)`` returns one ``Result`` per exercise checked.
Each file is graded by ``python -m minigan.exercises.runner FILE NAME`` in a fresh
interpreter (``grade_file`` there), which prints one JSON line: a student's infinite
loop, a crash of the interpreter or an ``os._exit`` cannot hang or kill the grader, and
no file sees what another imported. A file that does not finish within ``timeout``
seconds is stopped and reported as such. This protects against mistakes, not against a
hostile file: the student's code runs with the user's rights and could fake a result.

Statuses: "passed"; "failed" (a wrong answer: the message says how); "error" (a syntax
error or an exception, at the file's line); "not_started" (the stub's
NotImplementedError still there); "timeout"; "missing" (a NAME asked for whose file is
not in the folder).
"""

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field

import numpy as np

from .. import backend
from ..errors import ConfigError
from .catalog import BY_NAME, EXERCISES
from .diagnose import Wrong
from .student import StudentError, load

TIMEOUT_S = 60.0
"""Per file. A correct answer takes well under a second; the limit is for loops that
never end (and a slow machine)."""


@dataclass
class Result:
    name: str
    file: str
    status: str
    message: str
    details: dict = field(default_factory=dict)

    @property
    def passed(self):
        return self.status == "passed"

    def as_dict(self):
        return asdict(self)


def grade_file(path, name, seed=0):
    """Grade one file in this process (no time limit: ``check_directory`` adds it). The
    exercises are NumPy code: the active backend must be NumPy (``ConfigError`` else)."""
    if name not in BY_NAME:
        raise ConfigError(f"grade_file: unknown exercise {name!r}; expected one of "
                          f"{', '.join(BY_NAME)}")
    if backend.name != "numpy":
        raise ConfigError(f"grade_file: the exercises are graded on NumPy, but the active "
                          f"backend is {backend.name!r}; call minigan.backend.use('numpy')")
    try:
        module = load(path)
        details = BY_NAME[name].grade(module, path, np.random.default_rng(seed))
    except StudentError as error:
        return Result(name, path, error.kind, str(error))
    except Wrong as wrong:
        return Result(name, path, "failed", str(wrong))
    return Result(name, path, "passed", "passed", details)


def present(directory):
    """The exercises whose files are in ``directory``, in the catalogue's order."""
    return [e.name for e in EXERCISES if os.path.isfile(os.path.join(directory, e.file_name))]


def check_directory(directory, names=None, timeout=TIMEOUT_S, seed=0):
    """One Result per exercise: ``names`` (each must be a catalogue name), else every one
    whose file is present."""
    results = []
    for name in names or present(directory):
        path = os.path.join(directory, BY_NAME[name].file_name)
        if not os.path.isfile(path):
            results.append(Result(name, path, "missing", f"{BY_NAME[name].file_name} is not in "
                                  f"{directory} (minigan exercises init --force {directory} "
                                  "writes the missing stubs)"))
            continue
        results.append(_in_subprocess(path, name, timeout, seed))
    return results


def _in_subprocess(path, name, timeout, seed):
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    env.setdefault("OMP_NUM_THREADS", "1")
    command = [sys.executable, "-m", "minigan.exercises.runner", os.path.abspath(path), name,
               str(seed)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=package_root,  # no student file shadows a module
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Result(name, path, "timeout", f"{os.path.basename(path)}: did not finish in "
                      f"{timeout:g} s (an endless loop?); stopped")
    lines = [line for line in done.stdout.splitlines() if line.startswith(_MARK)]
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Result(name, path, "error", f"{os.path.basename(path)}: the grader's process "
                      f"ended with status {done.returncode} ({last[:200]})")
    return Result(**json.loads(lines[-1][len(_MARK):]))


_MARK = "minigan-exercise-result: "


def _main(argv):
    path, name, seed = argv[0], argv[1], int(argv[2]) if len(argv) > 2 else 0
    result = grade_file(path, name, seed)
    sys.stdout.flush()
    print(_MARK + json.dumps(result.as_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
