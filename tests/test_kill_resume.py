"""Kill a real ``minigan train`` with SIGKILL at random moments, then resume it.

Checkpoints are written to a temporary file, flushed, fsync'ed and renamed, so a kill at
any moment must leave the previous checkpoint loadable. Each trial:

1. starts ``python -m minigan train`` (MLP GAN, 5,000 digits, batch 250: 20 steps an
   epoch, 4 epochs, a checkpoint at every epoch end) and SIGKILLs it after a random delay
   (``random.Random(trial)``: 0.3 s to 95% of the reference run's duration) -- or, for
   the ``write`` trials, the moment the n-th checkpoint write's temporary ``.part`` file
   appears, i.e. in the middle of writing it;
2. checks what the kill left: ``checkpoints/last.npz``, if any, loads, sits at an epoch
   end and is bitwise the reference run's checkpoint of that epoch; so is every
   ``epoch_NNN.npz``; ``metrics.jsonl`` holds at least that many complete lines;
3. resumes (``--resume checkpoints/last.npz``, or a fresh start if the kill came before
   the first checkpoint) and checks that the finished run is bitwise the uninterrupted
   reference: every ``trainer.*`` array (both networks, both Adam states, step count),
   the data-order state, and the 80 metrics lines, steps 1..80 in order.

One trial runs by default; ``-m slow`` runs twelve more. The data is the package's embedded
5,000-digit sample written as IDX files into a temporary ``--data`` directory, so the run
neither looks in the user's cache nor tries to download MNIST. BLAS runs on one thread:
the runs are short, and a two-thread OpenBLAS on a busy two-core machine is ~10x slower.

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

REPO = Path(__file__).resolve().parent.parent
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
    """One uninterrupted run: its duration, checkpoints and metrics."""
    out = tmp_path_factory.mktemp("reference") / "run"
    began = time.monotonic()
    process, log = start(data_dir, out)
    finish(process, log, out)
    seconds = time.monotonic() - began
    checkpoints = {p.name: load_checkpoint(str(p)) for p in (out / "checkpoints").glob("*.npz")}
    assert sorted(checkpoints) == ["epoch_001.npz", "epoch_002.npz", "epoch_003.npz",
                                   "epoch_004.npz", "last.npz"]
    records = metrics(out)
    assert [r["step"] for r in records] == list(range(1, 81))
    assert checkpoints["last.npz"][1]["step"] == 80
    return {"seconds": seconds, "checkpoints": checkpoints, "metrics": records, "out": out}


def kill_during_write(process, checkpoints, nth, rng, limit):
    """Wait until the ``nth`` checkpoint write's temporary file appears (the run writes
    last.npz then epoch_NNN.npz at each epoch end: 8 writes), then return a moment later."""
    seen = set()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if checkpoints.is_dir():
            seen.update(p.name for p in checkpoints.iterdir() if p.suffix == ".part")
            if len(seen) >= nth:
                time.sleep(rng.uniform(0, 0.01))
                return
        time.sleep(0.0005)


TRIALS = [pytest.param(("random", 0), id="random-0")]
TRIALS += [pytest.param(("random", t), id=f"random-{t}", marks=pytest.mark.slow)
           for t in range(1, 9)]
# writes 1, 3, 7: last.npz of epochs 1, 2, 4 (the first with no checkpoint yet, the others
# over the previous one); write 6: the numbered copy epoch_003.npz
TRIALS += [pytest.param(("write", n), id=f"write-{n}", marks=pytest.mark.slow)
           for n in (1, 3, 6, 7)]


@pytest.mark.parametrize("trial", TRIALS)
def test_sigkill_then_resume_gives_the_uninterrupted_run(trial, data_dir, reference, tmp_path):
    mode, seed = trial
    rng = random.Random(seed)
    out = tmp_path / "run"
    checkpoints = out / "checkpoints"
    ref = reference["checkpoints"]

    # 1. start and kill
    delay = rng.uniform(0.3, 0.95 * reference["seconds"])
    began = time.monotonic()
    process, log = start(data_dir, out)
    if mode == "random":
        time.sleep(delay)
    else:
        kill_during_write(process, checkpoints, seed, rng, limit=3 * reference["seconds"])
    landed = time.monotonic() - began
    alive = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    log.close()  # (a run faster than the reference may finish first: then resume is a no-op)

    # 2. what the kill left
    left = sorted(p.name for p in checkpoints.iterdir()) if checkpoints.is_dir() else []
    leftovers = [name for name in left if name.endswith(".part")]
    if mode == "write":  # the kill landed in the middle of writing a checkpoint
        assert leftovers, left
    records = metrics(out)
    step = None
    if "last.npz" in left:
        arrays, meta = load_checkpoint(str(checkpoints / "last.npz"))  # loads: not half a file
        step = meta["step"]
        assert step % STEPS_PER_EPOCH == 0 and STEPS_PER_EPOCH <= step <= 80, step
        assert int(arrays["trainer.step_count"]) == step
        assert_same_checkpoint(checkpoints / "last.npz",
                               ref[f"epoch_{step // STEPS_PER_EPOCH:03d}.npz"], "last.npz")
        assert len(records) >= step
        assert records[:step] == reference["metrics"][:step]
    for name in left:
        if name.startswith("epoch_") and name.endswith(".npz"):  # never a half-written copy
            assert_same_checkpoint(checkpoints / name, ref[name], name)
            # written just before last.npz: at most one epoch ahead of it
            assert int(name[6:9]) * STEPS_PER_EPOCH <= (step or 0) + STEPS_PER_EPOCH, \
                (name, step)

    # 3. resume (or start again, if no checkpoint was written yet) and finish
    resumed = time.monotonic()
    extra = ["--resume", str(checkpoints / "last.npz")] if step else []
    process, log = start(data_dir, out, *extra)
    finish(process, log, out)
    resume_seconds = time.monotonic() - resumed
    if step:
        assert f"resumed from {checkpoints / 'last.npz'} at step {step}" in (
            tmp_path / "run.log").read_text()

    after = sorted(p.name for p in checkpoints.iterdir())
    print(f"\n[{mode}-{seed}] {'kill' if alive else 'run had finished'} at {landed:.2f} s "
          f"(reference run {reference['seconds']:.2f} s):"
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
