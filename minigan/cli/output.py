"""Printing a command's progress lines so that a reader going away does not stop the work.

``minigan train | head`` closes the pipe after ten lines, and a terminal that is closed
(the SIGHUP that follows) makes every later write fail: a run must not end because its
progress lines have nowhere to go -- it still trains, saves and writes summary.json, and
a signal still ends it with 128 + the signal's number. ``say(line)`` prints one line;
once standard output is gone (a broken pipe, EIO of a closed terminal), it is pointed at
the null device for the rest of the process, so neither the later lines nor Python's
final flush raise.
"""

import os
import sys


def say(line=""):
    """``print(line)``, flushed; nothing (for good) once standard output is gone."""
    try:
        print(line, flush=True)
    except (BrokenPipeError, OSError):
        _stdout_gone()


def _stdout_gone():
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(null)
    sys.stdout = open(os.devnull, "w")


def after_a_failed_write(run_dir):
    """What ``train`` tells after a write failed (a full disk) in ``run_dir``: whether a
    checkpoint was saved before, and the command that continues from it."""
    import os

    from ..app.resume import resume_command

    last = os.path.join(run_dir, "checkpoints", "last.npz")
    if not os.path.isfile(last):
        return " (no checkpoint had been saved yet)"
    return (f" (checkpoints are replaced atomically: the last one saved, {last}, is intact; "
            f"once there is room, continue with: {resume_command(last, run_dir)})")
