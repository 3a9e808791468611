"""What a run leaves when it fails, and what it says: a run refused at its first step
leaves no directory behind; a full disk names the file, says whether a checkpoint was
saved and how to continue; ``.part`` files of killed writes are cleaned up; ``sample
--out`` refuses a device."""

import errno
import os
import re
import shutil

import numpy as np
import pytest
from cli_rows import QUIET, assert_refused, finished_tiny_run, run, tiny_data

import minigan.checkpoint

DIVERGING = ["--model", "mlp", "--lr-d", "1e8", "--lr-g", "1e8", "--batch-size", "50",
             *QUIET]


@pytest.mark.parametrize("existing", [False, True])
def test_a_run_refused_at_its_first_step_leaves_nothing(existing, tmp_path, capsys,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tiny_data(tmp_path / "data")
    if existing:
        os.mkdir("run")
    status, _, err = run(["train", "--data", data, *DIVERGING, "--out", "run"], capsys)
    assert status == 1 and re.search(r"step \d: the \w+.s gradient_norm", err), err
    assert os.listdir("run") == [] if existing else not os.path.exists("run")
    status, _, err = run(["train", "--data", data, "--model", "mlp", "--batch-size", "50",
                          "--max-steps", "1", *QUIET, "--out", "run"], capsys)
    assert status == 0, err  # the next try needs no --overwrite


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return finished_tiny_run(tmp_path_factory.mktemp("finished"), checkpoint_every=1)


def disk_full(monkeypatch):
    def savez(file, **arrays):
        file.write(b"PK")
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(minigan.checkpoint.numpy, "savez", savez)


def test_a_full_disk_names_the_file_and_how_to_continue(finished, tmp_path, capsys,
                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(finished[1], "run")
    before = open("run/checkpoints/last.npz", "rb").read()
    disk_full(monkeypatch)
    status, _, err = run(["train", "--resume", "run/checkpoints/last.npz", "--epochs", "3"],
                         capsys)
    assert status == 1
    assert re.fullmatch(
        r"minigan: error: No space left on device \(errno 28\): run/checkpoints/"
        r"epoch_003\.npz \(checkpoints are replaced atomically: the last one saved, "
        r"run/checkpoints/last\.npz, is intact; once there is room, continue with: minigan "
        r"train --resume run/checkpoints/last\.npz --out run\)", err.splitlines()[-1]), err
    assert open("run/checkpoints/last.npz", "rb").read() == before
    assert not [n for n in os.listdir("run/checkpoints") if n.endswith(".part")]


def test_a_full_disk_before_any_checkpoint_says_none_was_saved(tmp_path, capsys,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tiny_data(tmp_path / "data")
    disk_full(monkeypatch)
    status, _, err = run(["train", "--data", data, "--model", "mlp", "--batch-size", "50",
                          "--epochs", "1", *QUIET, "--out", "run"], capsys)
    assert status == 1
    assert err.splitlines()[-1].endswith("run/checkpoints/last.npz (no checkpoint had been "
                                         "saved yet)"), err
    assert "intact" not in err
    assert not os.path.exists("run")  # nothing to resume: the failed start is undone


def test_half_written_files_of_a_killed_run_are_removed_and_others_kept(finished, tmp_path,
                                                                        capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(finished[1], "run")
    left = ["run/.config.json.a1b2.part", "run/.metrics.jsonl.c3.part",
            "run/samples/.epoch_002.png.x9.part", "run/checkpoints/.last.npz.q7.part",
            "run/.curves.png.zz.part"]
    for path in left + ["run/.notes.txt.k1.part"]:
        open(path, "wb").write(b"half")
    status, _, err = run(["train", "--resume", "run/checkpoints/last.npz", "--epochs", "3"],
                         capsys)
    assert status == 0, err
    assert [p for p in left if os.path.exists(p)] == []
    assert open("run/.notes.txt.k1.part", "rb").read() == b"half"  # not a run file's


def test_sample_refuses_to_write_to_a_device(finished, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_refused(["sample", finished[1] / "checkpoints" / "last.npz", "--out", "/dev/null"],
                   capsys, tmp_path, 2,
                   r"--out /dev/null: is a device, expected an image file name")
    assert not os.path.exists("/dev/null.png")
    np.testing.assert_equal(os.path.exists("/dev/null"), True)
