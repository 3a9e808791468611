"""Kill a real ``minigan train`` with SIGKILL in the middle of its run, then resume it.

Checkpoints are written to a temporary file, flushed, fsync'ed and renamed, so a kill at
any moment must leave the previous checkpoint loadable. Each trial:

1. starts ``python -m minigan train`` (MLP GAN, 5,000 digits, batch 250: 20 steps an
   epoch, 4 epochs, a checkpoint at every epoch end) and SIGKILLs it: for the ``epoch``
   trials at a random moment (``random.Random(seed)``) in the half epoch after the given
   epoch's ``last.npz`` appears (epoch 0: between 0.3 s after the start and the
   reference run's first checkpoint); for the ``write`` trials the moment the n-th
   checkpoint write's temporary ``.part`` file appears, i.e. in the middle of writing
   it. The kill must interrupt the run: the process is still running when the signal
   is sent and dies of SIGKILL, and its checkpoint (if any) is before the last step;
2. checks what the kill left: ``checkpoints/last.npz``, if any, loads, sits at an epoch
   end (at or after the epoch the kill waited for) and is bitwise the reference run's
   checkpoint of that epoch; so is every ``epoch_NNN.npz``; ``metrics.jsonl`` holds at
   least that many complete lines; a ``write`` trial leaves the temporary file of the
   very write it interrupted;
3. resumes (``--resume checkpoints/last.npz``, or a fresh start with ``--overwrite`` if the
   kill came before the first checkpoint: the directory then holds the killed run's first
   metrics lines, and a run directory belongs to one run) and checks that the finished
   run is bitwise the uninterrupted reference: every ``trainer.*`` array (both networks,
   both Adam states, step count), the data-order state, and the 80 metrics lines, steps
   1..80 in order.

CI runs two trials: a kill in the half epoch after the first checkpoint (the run then
resumes from step 20 or 40) and a kill in the middle of writing epoch 2's ``last.npz``
over epoch 1's; ``-m slow`` runs twelve more. The data is the package's embedded
5,000-digit sample written as IDX files into a temporary ``--data`` directory, so the
run neither looks in the user's cache nor tries to download MNIST. BLAS runs on one
thread: the runs are short, and a two-thread OpenBLAS on a busy two-core machine is
~10x slower.

Also asserted: a kill in the middle of a write leaves that write's temporary
``.<name>.XXXXXXXX.part`` file, which the resumed run deletes before it starts; and no
numbered copy ``epoch_NNN.npz`` is lost (it is written before ``last.npz``, so a kill
between the two resumes from the older ``last.npz`` and writes the copy again).
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minigan.checkpoint import load_checkpoint
from minigan.data import write_idx
from minigan.data.embedded import load_embedded_mnist

REPO = Path(__file__).resolve().parent.parent.parent
STEPS_PER_EPOCH, EPOCHS = 20, 4
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1",
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def command(data, out, *extra):
    return [sys.executable, "-m", "minigan", "train", "--data", str(data), "--model", "mlp",
            "--batch-size", "250", "--epochs", str(EPOCHS), "--seed", "7", "--no-progress",
            "--evaluate", "0", "--checkpoint-every", "1", "--out", str(out), *extra]


def start(data, out, *extra):
    out.mkdir(parents=True, exist_ok=True)
    log = open(out.parent / f"{out.name}.log", "a")
    return subprocess.Popen(command(data, out, *extra), stdout=log, stderr=subprocess.STDOUT,
                            env=ENV, cwd=out.parent), log


def finish(process, log, out):
    rc = process.wait(timeout=600)
    log.close()
    assert rc == 0, (out.parent / f"{out.name}.log").read_text()[-3000:]


def metrics(out):
    """The complete lines of metrics.jsonl, parsed (a line cut by the kill is not counted)."""
    path = out / "metrics.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text().split("\n")[:-1]:  # the last piece has no newline yet
        records.append(json.loads(line))
        del records[-1]["elapsed_s"]  # wall-clock time: the one thing a rerun changes
    return records


def comparable(meta):
    meta = dict(meta, config=dict(meta["config"]))
    del meta["config"]["out"]
    return meta


def assert_same_checkpoint(path, reference, what):
    arrays, meta = load_checkpoint(str(path))
    ref_arrays, ref_meta = reference
    assert sorted(arrays) == sorted(ref_arrays), what
    for key in ref_arrays:
        a, b = arrays[key], ref_arrays[key]
        assert a.dtype == b.dtype and a.shape == b.shape, (what, key)
        assert a.tobytes() == b.tobytes(), f"{what}: {key} differs from the uninterrupted run"
    assert comparable(meta) == comparable(ref_meta), what
    return meta


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """The embedded 5,000-digit sample as the two training IDX files."""
    directory = tmp_path_factory.mktemp("data")
    images, labels = load_embedded_mnist(quiet=True)
    write_idx(directory / "train-images-idx3-ubyte.gz", images)
    write_idx(directory / "train-labels-idx1-ubyte.gz", labels)
    return directory


@pytest.fixture(scope="module")
def reference(data_dir, tmp_path_factory):
    """One uninterrupted run: its checkpoints, metrics, and timing (seconds from the
    start to the first checkpoint, and per epoch, from the numbered copies' times)."""
    out = tmp_path_factory.mktemp("reference") / "run"
    began = time.time()
    process, log = start(data_dir, out)
    finish(process, log, out)
    folder = out / "checkpoints"
    checkpoints = {p.name: load_checkpoint(str(p)) for p in folder.glob("*.npz")}
    assert sorted(checkpoints) == ["epoch_001.npz", "epoch_002.npz", "epoch_003.npz",
                                   "epoch_004.npz", "last.npz"]
    records = metrics(out)
    assert [r["step"] for r in records] == list(range(1, 81))
    assert checkpoints["last.npz"][1]["step"] == 80
    written = [(folder / f"epoch_{e:03d}.npz").stat().st_mtime for e in (1, 4)]
    return {"first_checkpoint": written[0] - began, "epoch": (written[1] - written[0]) / 3,
            "checkpoints": checkpoints, "metrics": records, "out": out}


def kill_after_epoch(process, checkpoints, epoch, rng, reference, limit):
    """Wait until ``epoch``'s last.npz is there (its step read from the file), then
    return at a random moment in the next half epoch; epoch 0: at a random moment
    between 0.3 s after the start and the reference run's first checkpoint."""
    if epoch == 0:
        time.sleep(rng.uniform(0.3, max(0.3, reference["first_checkpoint"])))
        return
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if (checkpoints / "last.npz").exists() and \
                load_checkpoint(str(checkpoints / "last.npz"))[1]["step"] >= \
                epoch * STEPS_PER_EPOCH:
            break
        time.sleep(0.002)
    time.sleep(rng.uniform(0, 0.5 * reference["epoch"]))


def kill_during_write(process, checkpoints, nth, rng, limit):
    """Wait until the ``nth`` checkpoint write's temporary file appears (at each epoch
    end the run writes epoch_NNN.npz then last.npz: write 2e - 1 is epoch e's numbered
    copy, write 2e its last.npz), then return a moment later."""
    seen = set()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoints.is_dir():
            seen.update(p.name for p in checkpoints.iterdir() if p.suffix == ".part")
            if len(seen) >= nth:
                time.sleep(rng.uniform(0, 0.01))
                return
        time.sleep(0.0005)


def written_by(nth):
    """The file the ``nth`` checkpoint write of a run produces."""
    return f"epoch_{(nth + 1) // 2:03d}.npz" if nth % 2 else "last.npz"


# (mode, epoch or write number, seed). epoch trials: CI, after epoch 1; slow, after
# epochs 0-3
TRIALS = [pytest.param(("epoch", 1, 0), id="epoch1-0")]
TRIALS += [pytest.param(("epoch", seed % 4, seed), id=f"epoch{seed % 4}-{seed}",
                        marks=pytest.mark.slow) for seed in range(1, 9)]
# write trials: CI, write 4 (epoch 2's last.npz over epoch 1's; epoch_002.npz is
# complete); slow, writes 1 (epoch_001.npz: nothing on disk yet), 2 (the first
# last.npz), 5 (epoch_003.npz) and 8 (the run's last write: epoch 4's last.npz)
TRIALS += [pytest.param(("write", 4, 4), id="write-4")]
TRIALS += [pytest.param(("write", n, n), id=f"write-{n}", marks=pytest.mark.slow)
           for n in (1, 2, 5, 8)]


@pytest.mark.parametrize("trial", TRIALS)
def test_sigkill_then_resume_gives_the_uninterrupted_run(trial, data_dir, reference, tmp_path):
    """One trial, steps 1-3 of the module docstring: the kill interrupts the run where
    the trial says, leaves only loadable checkpoints that are the reference's, and the
    resumed run ends bitwise as the uninterrupted one."""
    mode, where, seed = trial
    rng = random.Random(seed)
    out = tmp_path / "run"
    checkpoints = out / "checkpoints"
    ref = reference["checkpoints"]
    limit = 60 + 20 * reference["epoch"]

    # 1. start, and kill in the middle of the run
    began = time.monotonic()
    process, log = start(data_dir, out)
    if mode == "epoch":
        kill_after_epoch(process, checkpoints, where, rng, reference, limit)
    else:
        kill_during_write(process, checkpoints, where, rng, limit)
    landed = time.monotonic() - began
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    returncode = process.wait(timeout=60)
    log.close()
    assert alive and returncode == -signal.SIGKILL, \
        f"the run was not interrupted: it ended with exit status {returncode} before the kill"

    # 2. what the kill left
    left = sorted(p.name for p in checkpoints.iterdir()) if checkpoints.is_dir() else []
    leftovers = [name for name in left if name.endswith(".part")]
    if mode == "write":  # the kill landed in the middle of writing that very checkpoint
        assert [name for name in leftovers if name.startswith(f".{written_by(where)}.")], left
    records = metrics(out)
    step = None
    if "last.npz" in left:
        arrays, meta = load_checkpoint(str(checkpoints / "last.npz"))  # loads: not half a file
        step = meta["step"]
        assert step % STEPS_PER_EPOCH == 0 and STEPS_PER_EPOCH <= step < 80, step
        assert int(arrays["trainer.step_count"]) == step
        assert_same_checkpoint(checkpoints / "last.npz",
                               ref[f"epoch_{step // STEPS_PER_EPOCH:03d}.npz"], "last.npz")
        assert len(records) >= step
        assert records[:step] == reference["metrics"][:step]
    if mode == "epoch":  # the kill came after that epoch's checkpoint
        assert (step or 0) >= where * STEPS_PER_EPOCH, (step, where)
    else:  # write n comes after (n - 1) // 2 whole epochs: last.npz is the latest of them
        assert (step or 0) == (where - 1) // 2 * STEPS_PER_EPOCH, (step, where)
    for name in left:
        if name.startswith("epoch_") and name.endswith(".npz"):  # never a half-written copy
            assert_same_checkpoint(checkpoints / name, ref[name], name)
            # written just before last.npz: at most one epoch ahead of it
            assert int(name[6:9]) * STEPS_PER_EPOCH <= (step or 0) + STEPS_PER_EPOCH, \
                (name, step)

    # 3. resume (or start again, if no checkpoint was written yet) and finish
    resumed = time.monotonic()
    extra = ["--resume", str(checkpoints / "last.npz")] if step else ["--overwrite"]
    process, log = start(data_dir, out, *extra)
    finish(process, log, out)
    resume_seconds = time.monotonic() - resumed
    if step:
        assert f"resumed from {checkpoints / 'last.npz'} at step {step}" in (
            tmp_path / "run.log").read_text()

    after = sorted(p.name for p in checkpoints.iterdir())
    print(f"\n[{mode}-{where}-{seed}] kill at {landed:.2f} s (reference run: first "
          f"checkpoint at {reference['first_checkpoint']:.2f} s, then "
          f"{reference['epoch']:.2f} s an epoch):"
          f" {len(records)} complete metrics lines, checkpoint "
          f"{'step %d' % step if step else 'none'}; files {left}; "
          f"resumed {'from step %d' % step if step else 'from scratch'} in "
          f"{resume_seconds:.2f} s; .part leftovers after the kill {leftovers}, "
          f"after the resumed run {[n for n in after if n.endswith('.part')]}")

    # the resumed run is the uninterrupted run, bitwise
    assert_same_checkpoint(checkpoints / "last.npz", ref["last.npz"], "final last.npz")
    for name in ref:
        assert_same_checkpoint(checkpoints / name, ref[name], name)
    final = metrics(out)
    assert [r["step"] for r in final] == list(range(1, 81))
    assert final == reference["metrics"]
    # temporary files a kill left behind are never taken for checkpoints and are
    # removed by the resumed run; every numbered copy is there
    assert sorted(after) == sorted(ref)
