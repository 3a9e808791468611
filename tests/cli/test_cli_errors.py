"""One-line errors, early: every bad argument of ``minigan train|sample|evaluate`` ends in
one line ``minigan: error: ...`` naming the argument, what was expected and what came,
with exit status 2, and nothing on disk changes.

Each row of ``ROWS`` runs the command in this process with the test's directory as the
working directory (so the default ``--out runs/mnist-dcgan`` and ``grid.png`` would land
there) and checks the status, the message and the unchanged directory
(``cli_rows.assert_refused``). Rows marked ``early`` must be refused before any data is
loaded: loading is replaced by a function that fails the test. A failure during the work
(a full disk) is exit status 1, and keeps the last checkpoint.
"""

import errno
import os

import numpy as np
import pytest
from cli_rows import QUIET, assert_refused, finished_tiny_run, run

from minigan.atomic import atomic_write
from minigan.checkpoint import load_checkpoint

BIG = str(2**70)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished 2-epoch MLP run on 200 digits (4 steps an epoch): (data dir, run dir)."""
    return finished_tiny_run(tmp_path_factory.mktemp("tiny"), checkpoint_every=1)


# (id, argv, exit status, pattern of the error line, refused before any data is loaded)
ROWS = [
    ("sample an .npy", ["sample", "{npy}"], 2,
     r"arr\.npy: the file is a single NumPy array \(\.npy\), not an \.npz archive; expected a "
     r"minigan checkpoint", True),
    ("sample into a missing folder", ["sample", "{ckpt}", "--out", "/nonexistent_dir/grid.png"],
     2, r"--out /nonexistent_dir/grid\.png: the folder /nonexistent_dir does not exist", True),
    ("sample as text", ["sample", "{ckpt}", "--out", "grid.txt"], 2,
     r"--out grid\.txt: expected an image file name ending in \.png, .*got \.txt", True),
    ("sample --seed -1", ["sample", "{ckpt}", "--seed", "-1"], 2,
     r"--seed: expected an integer from 0 to 2\*\*63 - 1, got -1", True),
    ("evaluate --seed 2**70", ["evaluate", "{ckpt}", "--seed", BIG], 2,
     rf"--seed: expected an integer from 0 to 2\*\*63 - 1, got {BIG}", True),
    ("evaluate --n 1", ["evaluate", "{ckpt}", "--n", "1"], 2,
     r"--n: expected at least 2 samples \(the Fréchet distance needs a covariance\), got 1",
     True),
    ("check --seed -1", ["check", "--seed", "-1"], 2,
     r"--seed: expected an integer from 0 to 2\*\*63 - 1, got -1", True),
    ("a file in the --out path", ["train", "--out", "afile/run"], 2,
     r"run directory afile/run: .*/afile is not a directory", True),
    ("an --out that cannot be created", ["train", "--out", "/proc/minigan-test/run", "--data",
                                         "{data}"], 2,
     r"(run directory /proc/minigan-test/run cannot be created: /proc is not writable"
     r"|cannot create the run directory /proc/minigan-test/run: )", False),
    ("train --seed -1", ["train", "--seed", "-1"], 2,
     r"--seed: expected an integer from 0 to 2\*\*63 - 1 \(stored as int64\), got -1", True),
    ("train --seed 2**70", ["train", "--seed", BIG], 2,
     rf"--seed: expected an integer from 0 to 2\*\*63 - 1 \(stored as int64\), got {BIG}", True),
    ("--evaluate -5", ["train", "--evaluate", "-5"], 2,
     r"--evaluate: expected 0 \(no final scoring\) or at least 2 samples .*got -5", True),
    ("--evaluate 1", ["train", "--evaluate", "1"], 2,
     r"--evaluate: expected 0 \(no final scoring\) or at least 2 samples .*got 1", True),
    ("--checkpoint-every -1", ["train", "--checkpoint-every", "-1"], 2,
     r"--checkpoint-every: expected an integer >= 0 \(0: no numbered copies\), got -1", True),
    ("--lr-d inf", ["train", "--lr-d", "inf"], 2,
     r"--lr-d: expected a finite number >= 0, got inf", True),
    ("--beta1 1", ["train", "--beta1", "1"], 2,
     r"--beta1: expected a number in \[0, 1\), got 1\.0", True),
    ("spectral norm on the progressive model", ["train", "--model", "progressive",
                                                 "--spectral-norm"], 2,
     r"--spectral-norm is offered for every model but 'progressive' \(which offers "
     r"--equalized-lr\)", True),
    ("--stage-steps without growing", ["train", "--stage-steps", "10"], 2,
     r"--stage-steps is a setting of the 'progressive' model, got model 'dcgan'", True),
    ("--equalized-lr without growing", ["train", "--model", "mlp", "--equalized-lr"], 2,
     r"--equalized-lr is a setting of the 'progressive' model, got model 'mlp'", True),
    ("--stage-steps 0", ["train", "--model", "progressive", "--stage-steps", "0"], 2,
     r"--stage-steps: .*0", True),
    ("a missing --resume", ["train", "--resume", "nope/last.npz"], 2,
     r"nope/last\.npz: no such checkpoint file \(expected a minigan checkpoint", True),
    ("--allow-change of no setting", ["train", "--allow-change", "bogus"], 2,
     r"--allow-change bogus: expected a setting that changes the training, one of .*lr-d", True),
    ("--batch-size above the data", ["train", "--batch-size", "100000", "--data", "{data}"], 2,
     r"--batch-size 100000: more than the 200 training images", False),
    ("--epochs 0", ["train", "--epochs", "0"], 2,
     r"train: --epochs: expected a positive integer, got 0; try 'minigan train --help'",
     True),
    ("--batch-size x", ["train", "--batch-size", "x"], 2,
     r"train: --batch-size: expected an integer, got 'x'; try 'minigan train --help'", True),
    ("--loss bogus", ["train", "--loss", "bogus"], 2,
     r"--loss: expected one of 'non-saturating', .*'wgan-gp', got 'bogus'", True),
    ("no command", [], 2, r"the following arguments are required: COMMAND; try 'minigan --help'",
     True),
]


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_bad_arguments_end_in_one_line_and_change_nothing(row, tiny_run, tmp_path, capsys,
                                                           monkeypatch):
    _, argv, status, pattern, early = row
    data, run_dir = tiny_run
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    np.save(tmp_path / "arr.npy", np.ones(3))
    (tmp_path / "afile").write_text("a file, not a directory")
    names = {"npy": tmp_path / "arr.npy", "ckpt": run_dir / "checkpoints" / "last.npz",
             "data": data}
    argv = [a.format(**names) for a in argv]
    if early:
        def no_loading(*args, **kwargs):
            raise AssertionError("data was loaded before the arguments were checked")

        # training and scoring load their splits through heldout_scores.run_split
        monkeypatch.setattr("minigan.app.heldout_scores.load_with_source", no_loading)
    assert_refused(argv, capsys, tmp_path, status, pattern)


def test_sample_reports_the_file_it_writes(tiny_run, tmp_path, capsys, monkeypatch):
    """``--out out/grid`` writes ``out/grid.png`` and says so."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    status, out, _ = run(["sample", tiny_run[1] / "checkpoints" / "last.npz", "--n", "4",
                          "--out", "out/grid"], capsys)
    assert status == 0 and out.strip() == "wrote 4 samples to out/grid.png"
    assert os.listdir(tmp_path / "out") == ["grid.png"]


def test_a_full_disk_ends_in_one_line_and_keeps_the_last_checkpoint(tiny_run, tmp_path, capsys,
                                                                     monkeypatch):
    """The disk fills up while epoch 2's checkpoint is written: simulated by a
    ``save_checkpoint`` that writes part of the file through ``atomic_write`` and then
    raises ``OSError(ENOSPC)``, as a real write would. Exit status 1, one line naming the
    error, and last.npz is still epoch 1's, with no temporary file left."""
    import minigan.app.run_checkpoints as run_module  # where a run saves its checkpoints

    real, calls = run_module.save_checkpoint, []

    def full_disk(path, arrays, meta=None):
        calls.append(path)
        if len(calls) == 1:
            return real(path, arrays, meta)
        with atomic_write(path) as file:
            file.write(b"PK\x03\x04 half a checkpoint")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(run_module, "save_checkpoint", full_disk)
    out = tmp_path / "run"
    status, _, err = run(["train", "--data", tiny_run[0], "--model", "mlp", "--batch-size", "50",
                          "--epochs", "2", "--checkpoint-every", "0", *QUIET, "--out", out],
                         capsys)
    assert status == 1 and "Traceback" not in err
    last = out / "checkpoints" / "last.npz"
    assert err.splitlines()[-1] == (
        f"minigan: error: No space left on device (errno 28): {last} (checkpoints are "
        f"replaced atomically: the last one saved, {last}, is intact; once there is room, "
        f"continue with: minigan train --resume {last} --out {out})")
    _, meta = load_checkpoint(str(out / "checkpoints" / "last.npz"))
    assert meta["step"] == 4 and len(calls) == 2
    assert sorted(os.listdir(out / "checkpoints")) == ["last.npz"]
    assert not (out / "train.lock").exists()


def test_an_unexpected_exception_is_still_one_line(tiny_run, tmp_path, capsys, monkeypatch):
    """A bug (here: the plotting raises a RuntimeError) ends in one line and exit status 1;
    MINIGAN_TRACEBACK=1 adds the traceback."""
    def broken(*args, **kwargs):
        raise RuntimeError("the plot broke")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("minigan.plots.save_image_grid", broken)
    argv = ["sample", tiny_run[1] / "checkpoints" / "last.npz", "--out", "grid.png"]
    status, _, err = run(argv, capsys)
    assert status == 1 and err.splitlines() == [
        "minigan: error: unexpected RuntimeError: the plot broke (a bug in minigan; "
        "MINIGAN_TRACEBACK=1 prints the traceback)"]
    monkeypatch.setenv("MINIGAN_TRACEBACK", "1")
    status, _, err = run(argv, capsys)
    assert status == 1 and err.startswith("Traceback") and "RuntimeError: the plot broke" in err
