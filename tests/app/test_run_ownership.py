"""A run directory belongs to one run: what ``minigan train`` refuses, and what it does
when told to go ahead.

``ROWS`` is the table of refusals, each run in this process against a copy of a
finished run (MLP, 200 digits, batch 50: 4 steps an epoch, 2 epochs, a numbered
checkpoint every epoch): exit status 2, one line naming the directory or the settings
and what to do instead, and nothing on disk changed (``cli_rows.assert_refused``). The
tests after it show the ways out working: ``--overwrite`` deletes only the run's own
files; ``--resume`` with no other flags continues bit for bit; an allowed change takes
effect and is recorded; a stale lock is taken over; a rewind with ``--overwrite``
removes the later epochs' files. Two real processes writing into one directory are in
``test_concurrent_writers`` (slow).
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_rows import QUIET, assert_refused, run, snapshot, tiny_data, training_numbers

from minigan.app.run_lock import RunLock
from minigan.checkpoint import load_checkpoint
from minigan.cli import main

REPO = Path(__file__).resolve().parent.parent.parent
SMALL = ["--model", "mlp", "--batch-size", "50", "--seed", "3", "--checkpoint-every", "1",
         *QUIET]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """(data dir, a finished 2-epoch run, a 3-epoch run of the same settings)."""
    root = tmp_path_factory.mktemp("finished")
    data = tiny_data(root / "data")
    for name, epochs in (("run", "2"), ("three", "3")):
        assert main(["train", "--data", data, *SMALL, "--epochs", epochs,
                     "--out", str(root / name)]) == 0
    return data, root / "run", root / "three"


def make_place(finished, tmp_path, monkeypatch, copy):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    data, run_dir, _ = finished
    shutil.copytree(run_dir, tmp_path / "run", copy_function=copy)
    shutil.copytree(data, tmp_path / "data", copy_function=copy)
    return tmp_path


@pytest.fixture
def place(finished, tmp_path, monkeypatch):
    """The test's directory, holding ``run`` (a copy of the finished run) and ``data``."""
    return make_place(finished, tmp_path, monkeypatch, shutil.copy2)


@pytest.fixture
def linked_place(finished, tmp_path, monkeypatch):
    """``place`` with hard links instead of copies, for commands that must not write
    (a write in place would show in the snapshot, and a replacement makes a new file)."""
    return make_place(finished, tmp_path, monkeypatch, os.link)


def last(directory):
    return str(Path(directory) / "checkpoints" / "last.npz")


CHANGED = r"the run was trained with other settings, and these change the training: "
ROWS = [
    ("a second train into a run", ["train", "--data", "data", *SMALL, "--epochs", "1",
                                   "--out", "run"],
     r"run directory run is not empty \(checkpoints/, config\.json, curves\.png, metrics\.jsonl, "
     r"\.\.\.\): a new run would overwrite the one there\. To continue it: minigan train "
     r"--resume run/checkpoints/last\.npz --out run; to start another run: a new --out; to "
     r"replace it: --overwrite \(deletes only the files a run writes\)"),
    ("a copied finished run trained again", ["train", "--out", "copy", "--max-steps", "5"],
     r"run directory copy is not empty .* To continue it: minigan train --resume "
     r"copy/checkpoints/last\.npz --out copy;"),
    ("a directory of other files", ["train", "--out", "notes"],
     r"run directory notes is not empty \(notes\.txt\): .* It holds no checkpoints/last\.npz to "
     r"resume from\. To start another run: a new --out"),
    ("resume into another run", ["train", "--resume", "run/checkpoints/last.npz", "--out", "copy"],
     r"run directory copy is not empty .* and is not where the checkpoint run/checkpoints/"
     r"last\.npz comes from: resuming into it would mix two runs"),
    ("resume --loss wgan", ["train", "--resume", last("run"), "--loss", "wgan"],
     CHANGED + r"--loss was 'non-saturating', now 'wgan'\. .*--allow-change loss \(recorded"),
    ("resume --seed 7", ["train", "--resume", last("run"), "--seed", "7"],
     CHANGED + r"--seed was 3, now 7\."),
    ("resume --d-steps 3", ["train", "--resume", last("run"), "--d-steps", "3"],
     CHANGED + r"--d-steps was 1, now 3\."),
    ("resume --latent-dim 64", ["train", "--resume", last("run"), "--latent-dim", "64"],
     CHANGED + r"--latent-dim was 100, now 64\."),
    ("resume --model dcgan", ["train", "--resume", last("run"), "--model", "dcgan"],
     CHANGED + r"--model was 'mlp', now 'dcgan'\."),
    ("resume, three changes", ["train", "--resume", last("run"), "--lr-g", "1e-3",
                               "--batch-size", "25", "--spectral-norm"],
     CHANGED + r"--batch-size was 50, now 25; --lr-g was 0\.0002, now 0\.001; --spectral-norm "
     r"was False, now True\. .*--allow-change batch-size --allow-change lr-g --allow-change "
     r"spectral-norm"),
    ("a rewind", ["train", "--resume", "run/checkpoints/epoch_001.npz"],
     r"run/checkpoints/epoch_001\.npz is at step 4 but run/checkpoints/last\.npz is at step 8: "
     r"resuming from it would discard steps 5-8\. Resume into a new --out to branch off from "
     r"it, or pass --overwrite to rewind this run"),
    ("a run in use", ["train", "--resume", last("run"), "--epochs", "3"],
     r"run directory run is in use by another minigan train \(pid \d+, started [-0-9: ]+; lock "
     r"file run/train\.lock\): wait for it to end, or choose another --out"),
    ("a loose checkpoint", ["train", "--resume", "loose.npz"],
     r"--resume loose\.npz: the checkpoint is not in a run directory's checkpoints/ folder; "
     r"say where the run goes on with --out DIR"),
]


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_what_would_destroy_or_mix_runs_is_refused(row, linked_place, capsys):
    name, argv, pattern = row
    place = linked_place
    if "copy" in argv:
        shutil.copytree(place / "run", place / "copy", copy_function=os.link)
    (place / "notes").mkdir()
    (place / "notes" / "notes.txt").write_text("mine")
    if "loose.npz" in argv:
        os.link(place / "run" / "checkpoints" / "last.npz", place / "loose.npz")
    with RunLock(str(place / "run")) if name == "a run in use" else _nothing():
        assert_refused(argv, capsys, place, 2, pattern)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_overwrite_deletes_only_the_runs_own_files(place, capsys):
    (place / "run" / "notes.txt").write_text("mine")
    (place / "run" / "samples" / "my-drawing.png").write_bytes(b"mine")
    status, _, _ = run(["train", "--data", "data", *SMALL, "--epochs", "1", "--out", "run",
                        "--overwrite"], capsys)
    assert status == 0
    files = {str(p.relative_to(place / "run")) for p in (place / "run").rglob("*")
             if p.is_file()}
    assert files == {"notes.txt", "samples/my-drawing.png", "samples/epoch_001.png",
                     "checkpoints/epoch_001.npz", "checkpoints/last.npz", "config.json",
                     "metrics.jsonl", "curves.png"}  # the old epoch 2 is gone, mine stay
    assert len((place / "run" / "metrics.jsonl").read_text().splitlines()) == 4
    assert (place / "run" / "notes.txt").read_text() == "mine"


def test_resume_with_no_other_flags_continues_the_run_bit_for_bit(place, finished, capsys):
    """``--resume RUN/checkpoints/last.npz --epochs 3``: the settings come from the
    checkpoint, --out is its run directory, and the result is the 3-epoch run's."""
    status, out, _ = run(["train", "--resume", last("run"), "--epochs", "3"], capsys)
    assert status == 0 and "resumed from run/checkpoints/last.npz at step 8" in out
    a, meta_a = load_checkpoint(last(place / "run"))
    b, meta_b = load_checkpoint(last(finished[2]))
    assert sorted(a) == sorted(b) and meta_a["step"] == meta_b["step"] == 12
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
    assert training_numbers(place / "run") == training_numbers(finished[2])
    record = json.loads((place / "run" / "resumes.jsonl").read_text())
    assert record["step"] == 8 and record["changed"]["epochs"] == {"from": 2, "to": 3}
    assert set(record["changed"]) == {"epochs", "out"}  # this run was copied to another place


def test_an_allowed_change_takes_effect_and_is_recorded(place, capsys):
    status, _, _ = run(["train", "--resume", last("run"), "--epochs", "3", "--lr-d", "1e-3",
                        "--allow-change", "lr-d"], capsys)
    assert status == 0
    arrays, meta = load_checkpoint(last(place / "run"))
    assert float(arrays["trainer.opt_d.lr"]) == 1e-3 == meta["config"]["lr_d"]
    assert float(arrays["trainer.opt_g.lr"]) == 2e-4
    assert json.loads((place / "run" / "config.json").read_text())["lr_d"] == 1e-3
    record = json.loads((place / "run" / "resumes.jsonl").read_text())
    assert record["changed"]["lr_d"] == {"from": 2e-4, "to": 1e-3}


def test_a_stale_lock_is_taken_over(place, capsys):
    """A lock file nobody holds (its process was killed) does not block the directory."""
    (place / "run" / "train.lock").write_text("pid 999999, started 2020-01-01 00:00:00")
    status, out, _ = run(["train", "--resume", last("run"), "--epochs", "3"], capsys)
    assert status == 0
    assert "had the lock file of a run that ended without removing it (pid 999999" in out
    assert not (place / "run" / "train.lock").exists()


def test_a_rewind_with_overwrite_removes_the_later_epochs(place, capsys):
    before = snapshot(place / "run")
    status, _, _ = run(["train", "--resume", "run/checkpoints/epoch_001.npz", "--epochs", "1",
                        "--overwrite"], capsys)
    assert status == 0
    after = snapshot(place / "run")
    gone = sorted(set(before) - set(after))
    assert gone == ["checkpoints/epoch_002.npz", "samples/epoch_002.png"]
    assert after["checkpoints/epoch_001.npz"] == before["checkpoints/epoch_001.npz"]
    arrays, meta = load_checkpoint(last(place / "run"))
    assert meta["step"] == 4 and int(arrays["trainer.step_count"]) == 4
    assert len((place / "run" / "metrics.jsonl").read_text().splitlines()) == 4


@pytest.mark.slow
def test_concurrent_writers(finished, tmp_path):
    """Two real ``minigan train --out cc`` processes started 1 s apart: one runs to the
    end, the other is refused with exit status 2 and one line (the directory is not empty,
    or in use), and the directory holds the first run only: metrics steps 1..N once each,
    last.npz at step N, config.json of that run."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    env.pop("MINIGAN_DATA", None)
    command = [sys.executable, "-m", "minigan", "train", "--data", finished[0], *SMALL,
               "--out", str(tmp_path / "cc")]
    first = subprocess.Popen(command + ["--epochs", "30"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(1)
    second = subprocess.Popen(command + ["--epochs", "30", "--seed", "9"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    _, err2 = second.communicate(timeout=300)
    _, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2
    assert err2.splitlines()[-1].startswith("minigan: error: run directory ")
    assert ("is not empty" in err2) or ("is in use by another minigan train" in err2)
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "cc" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 121))
    assert load_checkpoint(last(tmp_path / "cc"))[1]["step"] == 120
    assert json.loads((tmp_path / "cc" / "config.json").read_text())["seed"] == 3


def test_a_lock_file_that_is_a_symbolic_link_is_refused_and_not_written_through(
        linked_place, capsys):
    """``train.lock -> ../victim.txt``: opening it to lock would truncate and overwrite the
    file it points to; it is refused, and the victim keeps its bytes."""
    place = linked_place
    (place / "victim.txt").write_text("precious")
    os.symlink("../victim.txt", place / "run" / "train.lock")
    assert_refused(["train", "--resume", last("run"), "--epochs", "3"], capsys, place, 2,
                   r"run directory run: its lock file run/train\.lock is a symbolic link; "
                   r"minigan's lock is a regular file .*: remove it")
    assert (place / "victim.txt").read_text() == "precious"


def test_a_lock_file_deleted_during_a_run_does_not_let_a_second_writer_in(linked_place,
                                                                          capsys):
    """The directory itself is locked: a bystander deleting ``train.lock`` removes the
    message, not the lock."""
    place = linked_place
    with RunLock(str(place / "run")) as lock:
        os.unlink(lock.path)
        assert_refused(["train", "--resume", last("run"), "--epochs", "3"], capsys, place, 2,
                       r"run directory run is in use by another minigan train \(its lock file "
                       r"train\.lock was removed; lock file run/train\.lock\)")
        assert not (place / "run" / "train.lock").exists()


def test_overwrite_refuses_a_directory_that_is_not_a_minigan_run(linked_place, capsys):
    """Another tool's config.json, metrics.jsonl and summary.json: --overwrite deletes run
    files by name, so it needs a directory a minigan train wrote (its config.json)."""
    place = linked_place
    (place / "other").mkdir()
    for name, text in (("config.json", '{"learning_rate": 0.1}'),
                       ("metrics.jsonl", '{"step": 1, "acc": 0.5}\n'),
                       ("summary.json", '{"acc": 0.9}')):
        (place / "other" / name).write_text(text)
    assert_refused(["train", "--data", "data", *SMALL, "--epochs", "1", "--out", "other",
                    "--overwrite"], capsys, place, 2,
                   r"run directory other \(config\.json, metrics\.jsonl, summary\.json\) is not "
                   r"a minigan run \(its config\.json is not the settings of a minigan run\): "
                   r"--overwrite deletes a run's files by name")
    (place / "other" / "config.json").unlink()
    assert_refused(["train", "--data", "data", *SMALL, "--epochs", "1", "--out", "other"],
                   capsys, place, 2, r"run directory other is not empty .* a new --out "
                   r"\(--overwrite replaces only a minigan run, which this is not\)$")


def test_overwrite_does_not_follow_a_symbolic_link_to_another_runs_checkpoints(
        linked_place, finished, capsys):
    place = linked_place
    shutil.copytree(finished[2], place / "three", copy_function=os.link)
    shutil.rmtree(place / "run" / "checkpoints")
    os.symlink("../three/checkpoints", place / "run" / "checkpoints")
    assert_refused(["train", "--data", "data", *SMALL, "--epochs", "1", "--out", "run",
                    "--overwrite"], capsys, place, 2,
                   r"run directory run: checkpoints/ is a symbolic link \(to "
                   r"\.\./three/checkpoints\): a run writes and deletes only inside its own "
                   r"directory")


class Killed(BaseException):
    """What a SIGKILL would do at that point: nothing after it runs (not even ``except
    Exception`` handlers)."""


REWIND_WRITES = ["save_checkpoint", "record_resume", "remove_after", "write_metrics"]


@pytest.mark.parametrize("point", range(len(REWIND_WRITES) + 1))
def test_a_kill_at_any_point_of_a_rewind_leaves_a_run_a_plain_resume_completes(
        point, place, finished, capsys, monkeypatch):
    """A rewind to epoch 1 (``--overwrite``) killed before its ``point``-th write (of the
    writes it makes in order), then ``--resume run/checkpoints/last.npz``: the run is the
    uninterrupted one again, metrics steps 1..8 and last.npz bit for bit."""
    import minigan.app.run_setup as run_module  # where a rewind makes its writes

    calls, limit = [], point if point < len(REWIND_WRITES) else float("inf")
    for name in REWIND_WRITES:
        original = getattr(run_module, name)

        def counted(*args, original=original, **kwargs):
            calls.append(1)
            if len(calls) > limit:
                raise Killed
            return original(*args, **kwargs)
        monkeypatch.setattr(run_module, name, counted)
    argv = ["train", "--resume", "run/checkpoints/epoch_001.npz", "--epochs", "2",
            "--overwrite"]
    if point < len(REWIND_WRITES):
        with pytest.raises(Killed):
            main(argv)
    else:
        assert main(argv) == 0  # no kill: the rewind trains epoch 2 again
    monkeypatch.undo()
    monkeypatch.chdir(place)
    status, _, err = run(["train", "--resume", last("run"), "--epochs", "2"], capsys)
    assert status == 0, err
    steps = [json.loads(line)["step"] for line in
             (place / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9))
    a, _ = load_checkpoint(last(place / "run"))
    b, _ = load_checkpoint(last(finished[1]))
    assert all(a[key].tobytes() == b[key].tobytes() for key in b)
    assert training_numbers(place / "run") == training_numbers(finished[1])


@pytest.mark.parametrize("kept, pattern", [
    (4, r"run/metrics\.jsonl ends at step 4, but the checkpoint run/checkpoints/last\.npz is "
        r"at step 8: the run's record of those steps is missing"),
    ("hole", r"run/metrics\.jsonl jumps from step 4 to 7, but the checkpoint"),
])
def test_a_resume_whose_metrics_do_not_reach_the_checkpoint_is_refused(kept, pattern,
                                                                       place, capsys):
    metrics = place / "run" / "metrics.jsonl"
    lines = metrics.read_text().splitlines(keepends=True)
    metrics.write_text("".join(lines[:4] if kept == 4 else lines[:4] + lines[6:]))
    assert_refused(["train", "--resume", last("run"), "--epochs", "3"], capsys, place, 2,
                   pattern)
