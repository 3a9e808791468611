"""SIGINT, SIGTERM and SIGHUP stop a real ``minigan train`` without losing it.

A first signal saves a checkpoint at the next step boundary, prints a command that
continues the run when pasted as printed, and exits with 128 + the signal's number
(130, 143, 129); the pasted command then gives bitwise the run that was never stopped.
Two signals in a row stop at once, still with that exit status -- never a death by
signal -- and leave only loadable checkpoints.

CI: SIGINT and SIGTERM once each, and two SIGINTs 50 ms apart; ``-m slow``: SIGHUP, and
pairs of SIGINTs and SIGTERMs 30 ms to 0.5 s apart. The runs train the MLP GAN on 200
digits (4 steps an epoch) written as IDX files into a temporary ``--data`` directory.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_rows import QUIET, tiny_data, training_numbers

from minigan.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parent.parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1",
       "OMP_NUM_THREADS": "1"}
ENV.pop("MINIGAN_DATA", None)
SETTINGS = ["--model", "mlp", "--batch-size", "50", "--seed", "5", "--checkpoint-every", "0",
            *QUIET]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return tiny_data(tmp_path_factory.mktemp("data"))


def start(data, cwd):
    """``minigan train`` for 1,000 epochs into ``cwd/run``, once its metrics show 8 steps."""
    process = subprocess.Popen([sys.executable, "-m", "minigan", "train", "--data", data,
                                *SETTINGS, "--epochs", "1000", "--out", "run"], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    metrics = cwd / "run" / "metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        if metrics.exists() and len(metrics.read_text().splitlines()) >= 8:
            return process
        time.sleep(0.01)
    raise AssertionError(f"the run did not get going: {process.communicate()}")


STOPS = [pytest.param("SIGINT", id="SIGINT"), pytest.param("SIGTERM", id="SIGTERM"),
         pytest.param("SIGHUP", id="SIGHUP", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", STOPS)
def test_a_stop_signal_saves_and_prints_a_command_that_resumes(name, data, tmp_path):
    signum = getattr(signal, name)
    process = start(data, tmp_path)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, stderr
    assert f"minigan: {name} received: stopping after this step, with a checkpoint (a second " \
           "signal stops at once)" in stderr.splitlines(), stderr  # said when it is deferred
    arrays, meta = load_checkpoint(str(tmp_path / "run" / "checkpoints" / "last.npz"))
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    step = meta["step"]
    assert steps == list(range(1, step + 1)) and step >= 8  # nothing lost, nothing half-done
    hint = stdout.splitlines()[-1]
    prefix = f"interrupted at step {step} ({name}): saved run/checkpoints/last.npz; continue " \
             "with: "
    assert hint.startswith(prefix), hint
    command = shlex.split(hint[len(prefix):])
    assert command == ["minigan", "train", "--resume", "run/checkpoints/last.npz", "--out", "run"]

    # pasted as printed (with a step limit, as the run was to go on for 1,000 epochs); both
    # runs in processes set up as the interrupted one (one OpenBLAS thread): the same
    # computation, so the same bits (another BLAS thread count may round the products
    # differently, as the Haswell kernel does)
    for argv in (command[1:], ["train", "--data", data, *SETTINGS, "--epochs", "1000",
                               "--out", "straight"]):
        done = subprocess.run([sys.executable, "-m", "minigan", *argv, "--max-steps",
                               str(step + 3)], cwd=tmp_path, env=ENV, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    resumed, _ = load_checkpoint(str(tmp_path / "run" / "checkpoints" / "last.npz"))
    straight, _ = load_checkpoint(str(tmp_path / "straight" / "checkpoints" / "last.npz"))
    assert sorted(resumed) == sorted(straight)
    for key in straight:
        assert resumed[key].tobytes() == straight[key].tobytes(), key
    assert training_numbers(tmp_path / "run") == training_numbers(tmp_path / "straight")


PAIRS = [pytest.param("SIGINT", 0.05, id="SIGINT-50ms")]
PAIRS += [pytest.param(name, gap, id=f"{name}-{int(gap * 1000)}ms", marks=pytest.mark.slow)
          for name in ("SIGINT", "SIGTERM") for gap in (0.03, 0.1, 0.2, 0.3, 0.5)]


@pytest.mark.parametrize("name, gap", PAIRS)
def test_two_signals_in_a_row_exit_with_the_status_not_by_the_signal(name, gap, data,
                                                                     tmp_path):
    """The second signal may land in a step, in the checkpoint write or on the way out:
    the exit status is 128 + the signal's number in every case, the output ends in one
    line saying what happened, and any checkpoint left loads."""
    signum = getattr(signal, name)
    process = start(data, tmp_path)
    process.send_signal(signum)
    time.sleep(gap)
    if process.poll() is None:
        process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, (process.returncode, stderr)
    assert "Traceback" not in stderr
    said = (stderr.splitlines() or [""])[-1]
    assert said.startswith(f"minigan: stopped at once by a second {name}; the last checkpoint "
                           "saved is intact") or \
        stdout.splitlines()[-1].startswith("interrupted at step "), (stdout, stderr)
    last = tmp_path / "run" / "checkpoints" / "last.npz"
    if last.exists():
        load_checkpoint(str(last))
    assert not (tmp_path / "run" / "train.lock").exists()


def test_a_closed_terminal_still_ends_with_the_signals_status(data, tmp_path):
    """A terminal that closes sends SIGHUP, and every write to it fails from then on: the
    run still saves its checkpoint and exits 129, not 1 for the failed print."""
    process = start(data, tmp_path)
    process.stdout.close()  # nobody reads the progress lines any more: writes fail (EPIPE)
    process.send_signal(signal.SIGHUP)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGHUP, stderr
    assert "Traceback" not in stderr
    arrays, meta = load_checkpoint(str(tmp_path / "run" / "checkpoints" / "last.npz"))
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, meta["step"] + 1))


def test_train_piped_into_head_finishes_the_run_and_its_summary(data, tmp_path):
    """``minigan train | head -1``: the pipe closes after the first line; the run goes on
    to the end, writes summary.json and exits 0 (no "Broken pipe")."""
    process = subprocess.Popen([sys.executable, "-m", "minigan", "train", "--data", data,
                                *SETTINGS[:-2], "--evaluate", "100", "--epochs", "3",
                                "--out", "run"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=ENV)
    process.stdout.readline()
    process.stdout.close()
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert "Broken pipe" not in stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["train_seconds_this_session"] >= 0
