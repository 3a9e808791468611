"""``minigan exercises``: the stubs a student fills in, and their grading.

    minigan exercises init  DIR [--force]
    minigan exercises check DIR [NAME...] [--json] [--timeout SECONDS]

``init`` writes one stub per exercise into DIR (created if missing). A DIR that holds
anything is refused (exit status 2, nothing written) unless ``--force``, which writes
only the stubs that are missing and keeps every file already there -- a student's file
is never overwritten, not even with --force; the kept files are listed.

``check`` grades the exercises whose files are in DIR (or the NAMEs given), one line
each: passed, or what is wrong. Exit status 0 when every exercise checked passed, 1
otherwise, 2 for a usage error (no such DIR, an unknown NAME, no exercise file in DIR).
``--json`` prints one JSON object instead, for a teacher's autograder:

    {"directory": DIR, "passed": bool, "counts": {status: n},
     "results": [{"name", "file", "status", "message", "details"}, ...]}

with status one of "passed", "failed", "error", "not_started", "timeout", "missing".
"""

import json
import os

from ..errors import InputError


def add_exercises_parser(commands):
    """The ``exercises`` command and its ``init`` / ``check`` subcommands."""
    from ..exercises import EXERCISES
    from ..exercises.runner import TIMEOUT_S

    names = ", ".join(e.name for e in EXERCISES)
    exercises = commands.add_parser(
        "exercises", help="backward passes to write yourself, graded against the library")
    actions = exercises.add_subparsers(dest="exercises_command", required=True,
                                       metavar="ACTION", help="init or check")
    init = actions.add_parser("init", help="write one stub file per exercise into DIR",
                              description=f"Exercises: {names}.")
    init.add_argument("directory", metavar="DIR", help="a new or empty folder")
    init.add_argument("--force", action="store_true",
                      help="DIR is not empty: write only the missing stubs, keep every file "
                           "already there (never overwritten)")
    check = actions.add_parser("check", help="grade the exercise files in DIR",
                               description=f"Exercises: {names}.")
    check.add_argument("directory", metavar="DIR", help="the folder of minigan exercises init")
    check.add_argument("names", metavar="NAME", nargs="*",
                       help="exercises to grade (default: every one whose file is in DIR)")
    check.add_argument("--json", action="store_true",
                       help="print one JSON object (for an autograder) instead of lines")
    check.add_argument("--timeout", type=_seconds, default=TIMEOUT_S, metavar="SECONDS",
                       help="stop grading a file after this long (an endless loop)")


def _seconds(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def command_exercises(args, stop):
    if args.exercises_command == "init":
        return _init(args)
    return _check(args)


def _init(args):
    from ..exercises import write_stubs

    written, kept = write_stubs(args.directory, force=args.force)
    for name in written:
        print(f"wrote {os.path.join(args.directory, name)}")
    if kept:
        print(f"kept (already there, not overwritten): {', '.join(kept)}")
    print(f"next: fill in a stub, then run 'minigan exercises check {args.directory}' "
          "(docs/exercises.md)")
    return 0


def _check(args):
    from ..exercises import EXERCISES, check_directory
    from ..exercises.runner import present

    known = [e.name for e in EXERCISES]
    if not os.path.isdir(args.directory):
        raise InputError(f"exercises check: {args.directory} is not a directory (create it "
                         f"with 'minigan exercises init {args.directory}')")
    unknown = [n.removesuffix(".py") for n in args.names
               if n.removesuffix(".py") not in known]
    if unknown:
        raise InputError(f"exercises check: unknown exercise {', '.join(unknown)}; expected "
                         f"one of {', '.join(known)}")
    names = list(dict.fromkeys(n.removesuffix(".py") for n in args.names))
    if not names and not present(args.directory):
        raise InputError(f"exercises check: {args.directory} holds no exercise file (expected "
                         f"e.g. dense_backward.py; 'minigan exercises init' writes them)")
    results = check_directory(args.directory, names or None, timeout=args.timeout)
    passed = all(r.passed for r in results)
    if args.json:
        counts = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        print(json.dumps({"directory": args.directory, "passed": passed, "counts": counts,
                          "results": [r.as_dict() for r in results]}, indent=1))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            label = "PASS" if r.passed else r.status.upper().replace("_", " ")
            print(f"{r.name:<{width}}  {label:<11}  {'' if r.passed else r.message}".rstrip())
        done = sum(r.passed for r in results)
        print(f"{done}/{len(results)} passed")
    return 0 if passed else 1
