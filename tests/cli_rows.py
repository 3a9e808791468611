"""Shared by the table-driven command-line tests: a tiny dataset, a snapshot of a
directory tree, and the check that a command failed with one line and changed nothing.

A row of those tables runs ``minigan.cli.main`` in the test process (fast: no new
interpreter) and asserts: the exit status; that stderr ends in exactly one line
``minigan: error: ...`` matching the row's pattern, with no traceback; and that no file
under the test's directory was created, changed or deleted (``snapshot``: every path,
with the SHA-256 of every file).
"""

import hashlib
import json
import os
import re
from pathlib import Path

from minigan.cli import main
from minigan.data import write_idx
from minigan.data.embedded import load_embedded_mnist

QUIET = ["--no-progress", "--evaluate", "0"]


def tiny_data(directory, n=200):
    """The first ``n`` embedded digits as the train and test IDX files in ``directory``."""
    images, labels = load_embedded_mnist(quiet=True)
    os.makedirs(directory, exist_ok=True)
    for stem, array in (("train-images-idx3-ubyte", images[:n]),
                        ("train-labels-idx1-ubyte", labels[:n]),
                        ("t10k-images-idx3-ubyte", images[n:2 * n]),
                        ("t10k-labels-idx1-ubyte", labels[n:2 * n])):
        write_idx(os.path.join(directory, stem + ".gz"), array)
    return str(directory)


def finished_tiny_run(root, checkpoint_every):
    """Train a 2-epoch MLP run on ``tiny_data`` (200 digits, 4 steps an epoch, seed 3) under
    ``root``, keeping a checkpoint every ``checkpoint_every`` epochs (0: last.npz only):
    (data dir, run dir as a Path)."""
    data = tiny_data(Path(root) / "data")
    out = Path(root) / "run"
    assert main(["train", "--data", data, "--model", "mlp", "--batch-size", "50", "--epochs",
                 "2", "--checkpoint-every", str(checkpoint_every), "--seed", "3", *QUIET,
                 "--out", str(out)]) == 0
    return data, out


def training_numbers(run_dir):
    """The records of ``run_dir``'s metrics.jsonl without their wall-clock time
    ("elapsed_s"): what a rerun or a resume must reproduce exactly."""
    lines = (Path(run_dir) / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "elapsed_s"} for line in lines]


def snapshot(root):
    """{relative path: what the file is} for everything under ``root``: "dir", the SHA-256
    of a file's bytes, or for files above 1 MB (checkpoints: hashing them is slow) their
    size, inode and modification time in nanoseconds, which any write changes."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root)] = "dir"
        for name in files:
            path = os.path.join(folder, name)
            info = os.stat(path)
            if os.path.isfile(path) and info.st_size > 2**20:
                found[os.path.relpath(path, root)] = (info.st_size, info.st_ino, info.st_mtime_ns)
            elif os.path.isfile(path):
                with open(path, "rb") as file:
                    found[os.path.relpath(path, root)] = hashlib.sha256(file.read()).hexdigest()
            else:  # a FIFO or a socket: never read
                found[os.path.relpath(path, root)] = "special"
    return found


def run(argv, capsys):
    """(exit status, stdout, stderr) of ``minigan`` with ``argv``, in this process."""
    capsys.readouterr()
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_refused(argv, capsys, root, status, pattern):
    """``argv`` ends with ``status`` and one error line matching ``pattern``, and nothing
    under ``root`` changed. Returns the error line."""
    before = snapshot(root)
    got, _, err = run(argv, capsys)
    lines = err.splitlines()
    assert "Traceback" not in err, err
    assert lines, f"no message on stderr for {argv}"
    assert got == status, (got, err)
    assert re.fullmatch(r"minigan: error: .+", lines[-1]), lines[-1]
    assert re.search(pattern, lines[-1]), (pattern, lines[-1])
    assert snapshot(root) == before, "files under the test's directory changed"
    return lines[-1]
