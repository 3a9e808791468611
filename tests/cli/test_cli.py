"""The command line: train writes a run directory, resume continues exactly, sample and
evaluate read checkpoints, bad flags exit 2."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_rows import training_numbers

from minigan.checkpoint import load_checkpoint
from minigan.cli import main

REPO = Path(__file__).resolve().parent.parent.parent
QUICK = ["--batch-size", "16", "--no-progress", "--seed", "3", "--evaluate", "0"]


def train(out, *extra):
    assert main(["train", "--out", str(out), *QUICK, *extra]) == 0


def weights(checkpoint):
    arrays, _ = load_checkpoint(str(checkpoint))
    return {k: v for k, v in arrays.items() if k.startswith("trainer.G.")}


def test_train_writes_a_complete_run_directory(tmp_path, capsys):
    out = tmp_path / "run"
    train(out, "--epochs", "2", "--max-steps", "5", "--model", "mlp", "--evaluate", "100")
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert {"config.json", "metrics.jsonl", "curves.png", "samples/epoch_001.png",
            "checkpoints/last.npz", "summary.json"} <= names
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_fake"] == 100 and summary["step"] == 5 and summary["frechet_distance"] > 0
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3, 4, 5]
    # the training and the test split both came from the embedded sample: one notice
    assert capsys.readouterr().err.count("using the embedded MNIST sample") == 1


def trainer_arrays(checkpoint):
    """Every ``trainer.*`` array of a checkpoint, and its metadata."""
    arrays, meta = load_checkpoint(str(checkpoint))
    return {k: v for k, v in arrays.items() if k.startswith("trainer.")}, meta


def test_resume_of_the_dcgan_continues_bit_for_bit_where_it_stopped(tmp_path):
    """The DCGAN (BatchNorm in G and D) for 8 steps straight, and for 5 steps then
    resumed from its checkpoint to step 8: the two final checkpoints hold bitwise the
    same ``trainer.*`` arrays -- both networks' parameters and BatchNorm running
    statistics, both Adam states (m, v, t), the step count -- the same data-order
    state, and the same metrics lines, steps 1..8."""
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    train(straight, "--epochs", "1", "--max-steps", "8", "--model", "dcgan")
    train(interrupted, "--epochs", "1", "--max-steps", "5", "--model", "dcgan")
    middle, _ = trainer_arrays(interrupted / "checkpoints" / "last.npz")
    train(interrupted, "--epochs", "1", "--max-steps", "8", "--model", "dcgan",
          "--resume", str(interrupted / "checkpoints" / "last.npz"))
    a, meta_a = trainer_arrays(straight / "checkpoints/last.npz")
    b, meta_b = trainer_arrays(interrupted / "checkpoints/last.npz")
    assert {"trainer.G.3.running_mean", "trainer.G.3.running_var", "trainer.D.3.running_mean",
            "trainer.D.3.running_var", "trainer.opt_g.t", "trainer.opt_d.t", "trainer.opt_g.m.0",
            "trainer.opt_d.v.7", "trainer.step_count"} <= a.keys()
    assert a.keys() == b.keys()
    assert int(middle["trainer.opt_d.t"]) == 5 and int(a["trainer.opt_d.t"]) == 8
    for key in a:
        assert a[key].dtype == b[key].dtype and a[key].tobytes() == b[key].tobytes(), key
        if key.startswith(("trainer.G.", "trainer.D.", "trainer.opt_")) and a[key].ndim:
            assert not np.array_equal(a[key], middle[key]), f"{key} did not change after step 5"
    assert meta_a["batches"] == meta_b["batches"] and meta_a["step"] == meta_b["step"] == 8
    records = [training_numbers(directory) for directory in (straight, interrupted)]
    assert records[0] == records[1] and [r["step"] for r in records[0]] == list(range(1, 9))


def test_sample_and_evaluate_read_a_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    train(out, "--epochs", "1", "--max-steps", "3")
    grid = tmp_path / "grid.png"
    assert main(["sample", str(out / "checkpoints/last.npz"), "--n", "9",
                 "--out", str(grid)]) == 0
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["evaluate", str(out / "checkpoints/last.npz"), "--n", "200"]) == 0
    report = capsys.readouterr().out
    assert "Frechet distance" in report and "Classes present" in report


@pytest.mark.parametrize("argv", [
    ["train", "--epochs", "0"], ["train", "--loss", "bogus"], ["train", "--batch-size", "x"],
    ["train", "--real-label", "1.5"], ["sample"], ["fly"], ["train", "--threads", "0"],
    ["sample", "x.npz", "--threads", "two"],
])
def test_invalid_flags_exit_with_status_2_and_one_line(argv):
    result = subprocess.run([sys.executable, "-m", "minigan", *argv], capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 2
    assert re.fullmatch(r"minigan: error: .+; try 'minigan( \w+)? --help'\n", result.stderr), \
        result.stderr


def test_check_proves_every_layer(capsys):
    assert main(["check", "--mode", "directional"]) == 0
    out = capsys.readouterr().out
    for layer in ["Dense", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d (eval)",
                  "LeakyReLU", "ReLU", "Tanh", "Sigmoid", "BCEWithLogits"]:
        assert layer in out
    assert "PASS: worst relative error" in out


def test_library_errors_end_in_a_message_not_a_traceback(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r"),
                 *QUICK]) == 2
    err = capsys.readouterr().err
    assert "minigan: error: MNIST: the data directory" in err and "nowhere" in err
    assert "Traceback" not in err
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    assert main(["evaluate", str(tmp_path / "broken.npz")]) == 2
    assert "not a readable minigan checkpoint" in capsys.readouterr().err


def test_resuming_into_another_architecture_names_the_mismatching_key(tmp_path, capsys):
    out = tmp_path / "run"
    train(out, "--epochs", "1", "--max-steps", "2", "--model", "mlp")
    checkpoint = str(out / "checkpoints" / "last.npz")
    assert main(["train", "--out", str(tmp_path / "other"), "--model", "dcgan", *QUICK,
                 "--resume", checkpoint]) == 2  # a change of the training, not allowed
    assert "--model was 'mlp', now 'dcgan'" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "other"), "--model", "dcgan", *QUICK,
                 "--resume", checkpoint, "--allow-change", "model"]) == 2
    err = capsys.readouterr().err
    assert f"minigan: error: {checkpoint}: does not fit the networks of the run's settings: " \
           "keys do not match: missing ['G.3.weight', 'G.3.bias', 'G.3.running_mean'" in err
    assert not (tmp_path / "other").exists()


def test_a_nan_mid_run_stops_with_a_message_and_keeps_the_last_good_checkpoint(
        tmp_path, capsys, monkeypatch):
    from minigan.errors import NonFiniteError
    from minigan.gan import Trainer

    real_step = Trainer.step

    def step_that_diverges(self, real, labels=None):
        if self.step_count == 22:  # two steps into the second epoch (4,500 digits / 225)
            raise NonFiniteError("step 23: the discriminator's loss_real = nan; the update "
                                 "was not applied")
        return real_step(self, real, labels)

    monkeypatch.setattr(Trainer, "step", step_that_diverges)
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--model", "mlp", "--epochs", "3",
                 "--batch-size", "225", "--no-progress", "--evaluate", "0"]) == 1
    assert "minigan: error: step 23: the discriminator's loss_real = nan" in \
        capsys.readouterr().err
    arrays, meta = load_checkpoint(str(out / "checkpoints" / "last.npz"))
    assert meta["step"] == 20 and int(arrays["trainer.step_count"]) == 20


def test_the_discriminator_cures_are_reachable_from_the_command_line(tmp_path):
    """--spectral-norm and --minibatch-stddev build D with those layers, and a run with
    them resumes exactly (the power-iteration vectors are in the checkpoint)."""
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    cures = ["--model", "mlp", "--spectral-norm", "--minibatch-stddev", "--epochs", "1"]
    train(straight, *cures, "--max-steps", "4")
    train(interrupted, *cures, "--max-steps", "2")
    train(interrupted, *cures, "--max-steps", "4",
          "--resume", str(interrupted / "checkpoints" / "last.npz"))
    arrays, meta = load_checkpoint(str(straight / "checkpoints" / "last.npz"))
    assert meta["config"]["spectral_norm"] and meta["config"]["minibatch_stddev"]
    assert {"trainer.D.1.u", "trainer.D.1.layer.weight", "trainer.D.6.layer.weight"} <= set(arrays)
    resumed, _ = load_checkpoint(str(interrupted / "checkpoints" / "last.npz"))
    for key in arrays:
        if key.startswith("trainer.D.") or key.startswith("trainer.G."):
            np.testing.assert_array_equal(resumed[key], arrays[key], err_msg=key)


def test_threads_option_sets_minigans_threads_for_the_command_only(tmp_path, monkeypatch):
    """--threads N: the run uses N threads (seen inside Trainer.step) and the setting is
    restored afterwards; a run on 1 thread and one on 3 are given the same first gradients
    to float32 rounding."""
    from minigan import parallel
    from minigan.gan.trainer import Trainer
    from minigan.nn import BatchNorm1d, BatchNorm2d
    from minigan.optim import Adam

    seen, step = [], Trainer.step
    given, adam_step = [], Adam.step   # the gradients each Adam update is given

    noise_only = set()   # ids of the biases right before a BatchNorm (see below)

    def recording_step(self, *args, **kwargs):
        seen.append(parallel.threads())
        for network in (self.D, self.G):
            for layer, following in zip(network, list(network)[1:]):
                if isinstance(following, (BatchNorm1d, BatchNorm2d)) and layer.bias is not None:
                    noise_only.add(id(layer.bias))
        return step(self, *args, **kwargs)

    def recording_adam_step(self):
        given.append([(id(p) in noise_only, np.array(p.grad, dtype=np.float64))
                      for p in self.params])
        return adam_step(self)

    monkeypatch.setattr(Trainer, "step", recording_step)
    monkeypatch.setattr(Adam, "step", recording_adam_step)
    before = parallel.set_threads(None)
    first_d_update = {}
    for count in ("1", "3"):
        given.clear()
        train(tmp_path / count, "--epochs", "1", "--max-steps", "2", "--threads", count)
        assert parallel.set_threads(None) is None   # restored after the command
        assert len(given) == 4                       # D, G, D, G
        first_d_update[count] = given[0]
    assert seen == [1, 1, 3, 3]
    # Compare what the first update was given, not what Adam did with it: Adam's first
    # step divides each gradient element by its own magnitude, so a rounding difference in
    # a near-zero element becomes a difference of up to 2 lr in the weight, and every later
    # step starts from other weights. D's first gradients come from the same weights and
    # data on both runs; only the split of the batch over threads differs, which reorders
    # float32 sums of at most 16 * 14 * 14 terms per element: the order changes each sum by
    # a few ulps of its terms' size (random-signed terms: about sqrt(n) u |terms|, ~1e-6 of
    # the largest element), so 1e-5 of each array's largest element holds with room, while
    # a wrong thread split (a sample dropped or counted twice) moves elements by ~1/16.
    # A bias right before a BatchNorm has a zero gradient in exact arithmetic (the
    # normalisation removes any per-channel constant): what is computed for it is only the
    # rounding noise of a sum that cancels, and differs between any two orders of
    # summation; it is checked to be noise (tiny against the layer's weight gradient).
    largest = 0.0
    for (noise, a), (_, b) in zip(first_d_update["1"], first_d_update["3"], strict=True):
        if noise:
            assert max(np.abs(a).max(), np.abs(b).max()) <= 1e-3 * largest
            continue
        largest = float(np.abs(a).max())
        assert largest > 0
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-5 * largest)
    parallel.set_threads(before)
