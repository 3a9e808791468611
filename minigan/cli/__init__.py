"""The ``minigan`` command line (``python -m minigan`` is the same).

    minigan train    [--dataset mnist|fashion-mnist] [--data DIR] [--epochs N] [--batch-size 64]
                     [--loss non-saturating|minimax|lsgan|hinge|wgan|wgan-gp] [--gp-weight 10]
                     [--r1 GAMMA] [--out DIR] [--seed S]
                     [--resume CHECKPOINT] [--backend numpy|cupy] [--threads N] [...]
    minigan sample   CHECKPOINT [--n 64] [--out grid.png] [--backend numpy|cupy] [--threads N]
    minigan evaluate CHECKPOINT [--n 2000] [--data DIR] [--nearest FILE] [--backend numpy|cupy]
                     [--threads N]
    minigan check    [--mode elementwise|directional] [--seed S] [--backend numpy|cupy]
    minigan lab      [--port P] [--no-browser] [--data ring|grid|line|moons] [...]
    minigan lab      --export lab.html [--gif lab.gif] [--steps N]   (see cli/lab.py)
    minigan exercises init DIR [--force] | check DIR [NAME...] [--json]   (cli/exercises.py)

Every failure ends in one line on stderr, ``minigan: error: ...``, naming the input, what
was expected and what came. Exit status: 0 done; 2 bad input, refused before any work
began (nothing on disk changed: arguments, files and directories are checked first,
``validate_args``); 1 a failure during the work (a NaN in training, a full disk; also an
unexpected exception, a bug, whose traceback ``MINIGAN_TRACEBACK=1`` prints); 128 + the
signal's number when SIGINT (130), SIGTERM (143) or SIGHUP (129) stopped it, after
``train`` saved a checkpoint.

The package: ``parser`` (the options, one function per command), ``arg_types``,
``validate_args`` (the checks made before any work begins), ``commands`` (what each
command does), ``output``, ``exercises`` and ``lab``.
"""

import os
import sys
import traceback

from .. import parallel
from ..app.run import TrainingInterrupted
from ..app.stop_signals import Stopped, StopSignals
from ..data.offline import downloads_forbidden
from ..errors import InputError, MiniganError
from . import output, validate_args
from .commands import command_check, command_evaluate, command_sample, command_train, sample_title
from .exercises import command_exercises
from .lab import command_lab
from .parser import LOSSES, build_parser

__all__ = ["LOSSES", "build_parser", "main", "sample_title"]


def main(argv=None):
    """Run one command; returns the exit status (see the module docstring). Called as the
    program (``argv`` None), it leaves SIGINT, SIGTERM and SIGHUP ignored on its way out,
    so a late signal cannot turn the exit status into a death by signal."""
    program = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.explicit = validate_args.explicit_options(build_parser(), argv)
    command = {"train": command_train, "sample": command_sample,
               "evaluate": command_evaluate, "check": command_check,
               "exercises": command_exercises,
               "lab": command_lab}[args.command]
    threads = getattr(args, "threads", None)
    try:
        validate_args.check_threads(threads)
    except InputError as error:
        return _error(error, 2)
    previous = parallel.set_threads(threads) if threads is not None else None
    try:
        with StopSignals(restore=not program) as stop, \
                downloads_forbidden("--no-download", getattr(args, "no_download", False)):
            return command(args, stop)
    except Stopped as stopped:  # train has saved its checkpoint and printed how to resume
        if stopped.second:
            print(f"minigan: stopped at once by a second {stopped.name}; the last checkpoint "
                  "saved is intact (checkpoints are replaced atomically)", file=sys.stderr)
        elif not isinstance(stopped, TrainingInterrupted):
            print(f"minigan: stopped by {stopped.name}", file=sys.stderr)
        return stopped.exit_status
    except InputError as error:  # refused before any work began: nothing was changed
        return _error(error, 2)
    except MiniganError as error:  # the library's own errors say what was wrong
        return _error(error, 1)
    except OSError as error:  # a full disk, a permission, a vanished directory
        return _error(_os_error(error, args), 1)
    except MemoryError:
        return _error("out of memory", 1)
    except Exception as error:  # a bug: still one line, the traceback on request
        if os.environ.get("MINIGAN_TRACEBACK"):
            traceback.print_exc()
        return _error(f"unexpected {type(error).__name__}: {error} (a bug in minigan; "
                      "MINIGAN_TRACEBACK=1 prints the traceback)", 1)
    except KeyboardInterrupt:  # a SIGINT StopSignals did not see (not the main thread)
        print("minigan: interrupted", file=sys.stderr)
        return 130
    finally:
        if threads is not None:
            parallel.set_threads(previous)


def _error(error, status):
    """Print ``minigan: error: <message>`` as one line on stderr; return ``status``."""
    message = " ".join(str(error).split())
    print(f"minigan: error: {message}", file=sys.stderr)
    return status


def _os_error(error, args):
    what = error.strerror or str(error)
    where = f": {error.filename}" if error.filename else ""
    run_dir = getattr(args, "run_dir", None)
    note = output.after_a_failed_write(run_dir) if run_dir else ""
    return f"{what} (errno {error.errno}){where}{note}"


if __name__ == "__main__":
    sys.exit(main())
