"""``minigan exercises init DIR``: the stub files, written without ever replacing a
student's file.

* DIR missing or empty: every stub is written (DIR created).
* DIR holding anything: refused (``InputError``, nothing written) unless ``force``.
* ``force``: only the stubs whose files are missing are written; every file already
  there -- a student's work, or a stub not yet touched -- is kept as it is, and named.
"""

import os

from ..errors import InputError
from .catalog import EXERCISES


def write_stubs(directory, force=False):
    """Write the missing stubs into ``directory``; returns (written, kept): file names."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise InputError(f"exercises init: {directory} is a file, expected a directory")
    existing = os.listdir(directory) if os.path.isdir(directory) else []
    if existing and not force:
        raise InputError(f"exercises init: {directory} is not empty ({len(existing)} entries); "
                         "choose a new directory, or pass --force to add only the missing "
                         "stubs (files already there are never overwritten)")
    stubs = [(e.file_name, e.stub()) for e in EXERCISES]  # read them all before writing
    os.makedirs(directory, exist_ok=True)
    written, kept = [], []
    for file_name, text in stubs:
        path = os.path.join(directory, file_name)
        try:  # "x": create only; a file that appeared meanwhile is kept, never replaced
            with open(path, "x", encoding="utf-8") as file:
                file.write(text)
        except FileExistsError:
            kept.append(file_name)
            continue
        written.append(file_name)
    return written, kept
