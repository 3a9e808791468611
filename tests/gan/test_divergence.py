"""A diverging run stops before its state stops being finite, and never writes a checkpoint
that minigan itself would refuse; a run that diverges with finite numbers is named at the
end of each epoch (``minigan.app.health``).

* the Trainer: a gradient whose square would overflow Adam's second moment (float32 and
  float64) is refused before G's update, leaving G and its optimizer exactly as they
  were; an update that overflows the weights themselves is named;
* the command line: the training guide's NaN example reproduces as documented; a run and
  a resume with learning rates far too high stop with one line naming the step and keep
  the last good checkpoint byte for byte; ``sample`` draws from a checkpoint whose
  optimizer state is not finite;
* the health findings on hand-made records and on a real run with ``--lr-d 10``.
"""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from cli_rows import QUIET, run, tiny_data

import minigan as mg
from minigan.app import health
from minigan.checkpoint import load_checkpoint
from minigan.data import write_idx
from minigan.data.embedded import load_embedded_mnist
from minigan.errors import NonFiniteError
from minigan.gan import Trainer
from minigan.gan.finite_state import (
    check_checkpoint,
    check_gradient,
    check_weights,
    gradient_limit,
)
from minigan.nn.parameter import Parameter

GUIDE = Path(__file__).resolve().parent.parent.parent / "docs" / "training_guide.md"


def small_trainer(dtype, **options):
    rng = mg.backend.default_rng(0)
    G = mg.gan.mlp_generator(8, hidden=(16,), image_shape=(8, 8, 1), dtype=dtype, rng=rng)
    D = mg.gan.mlp_discriminator(image_shape=(8, 8, 1), hidden=(16,), dtype=dtype, rng=rng)
    return Trainer(G, D, **options)


def state_of(trainer, prefixes):
    return {k: np.array(v, copy=True) for k, v in trainer.state_dict().items()
            if k.startswith(prefixes)}


def test_a_gradient_that_would_overflow_the_second_moment_is_refused_before_the_update():
    """D's first Adam step moves its weights by about lr = 1e12, so G's gradient through
    it is of order 1e25: finite, but above sqrt(largest float32) / 2, where g^2 would
    overflow Adam's v."""
    dtype = "float32"
    trainer = small_trainer(dtype, lr_d=1e12, lr_g=1e12)
    real = mg.backend.default_rng(1).uniform(-1, 1, (6, 8, 8, 1)).astype(dtype)
    before = state_of(trainer, ("G.", "opt_g."))
    with pytest.raises(NonFiniteError) as error:
        trainer.step(real)
    limit = gradient_limit(dtype)
    assert limit == pytest.approx(np.sqrt(np.finfo(dtype).max) / 2)
    message = str(error.value)
    found = re.fullmatch(rf"step 1: the generator's gradient_norm = (\S+) is above "
                         rf"{re.escape(f'{limit:.3g}')}, where its square overflows {dtype} "
                         r"in the optimizer's second moment; the update was not applied "
                         r"\(.*\)", message)
    assert found, message
    assert float(found.group(1)) > limit
    after = state_of(trainer, ("G.", "opt_g."))
    assert after.keys() == before.keys()
    for key in before:  # G and its optimizer: not touched
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
    assert trainer.step_count == 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_gradient_limit_is_where_the_square_stops_being_finite(dtype):
    limit = gradient_limit(dtype)
    assert np.isfinite(np.square(np.array(2 * limit, dtype)))  # the margin: a factor of 4
    assert not np.isfinite(np.square(np.array(2.01 * limit, dtype) * 1.001))
    p = [Parameter(np.zeros(3, dtype))]
    check_gradient(1, "generator", limit, p)  # at the limit: allowed
    shown = re.escape(f"{1.01 * limit:.3g} is above {limit:.3g}")
    with pytest.raises(NonFiniteError, match=rf"^step 7: the generator's gradient_norm = "
                                             rf"{shown}, where its square overflows {dtype}"):
        check_gradient(7, "generator", 1.01 * limit, p)


def test_an_update_that_overflows_the_weights_is_named():
    """lr 1e39 is above float32's largest value: Adam's first step makes D's weights
    infinite although every gradient is finite."""
    trainer = small_trainer("float32", lr_d=1e39)
    real = mg.backend.default_rng(1).uniform(-1, 1, (6, 8, 8, 1)).astype(np.float32)
    with pytest.raises(NonFiniteError, match=r"^step 1: the discriminator's update overflowed "
                                             r"its weights \(1057 of 1057 values are no longer "
                                             r"finite"):
        trainer.step(real)


def test_check_weights_counts_the_values_that_are_not_finite():
    p = Parameter(np.array([1.0, 2.0, 3.0], np.float32))
    q = Parameter(np.array([[0.5, -0.25]], np.float32))
    check_weights(4, "generator", [p, q])  # all finite: nothing raised
    q.data[0, 1] = -np.inf
    p.data[2] = np.nan
    with pytest.raises(NonFiniteError, match=r"^step 4: the generator's update overflowed its "
                                             r"weights \(2 of 5 values"):
        check_weights(4, "generator", [p, q])


def test_a_checkpoint_holding_non_finite_values_is_not_written():
    arrays = {"trainer.G.0.weight": np.ones((2, 2), np.float32), "trainer.step_count": 3,
              "trainer.opt_d.v.0": np.array([1.0, np.inf, np.nan], np.float32)}
    check_checkpoint({k: v for k, v in arrays.items() if "opt_d" not in k}, 3)
    with pytest.raises(NonFiniteError, match=r"^step 3: the training state holds NaN or "
                                             r"infinite values \('trainer\.opt_d\.v\.0' \(2 of 3"
                                             r"\)\); no checkpoint was written"):
        check_checkpoint(arrays, 3)


def embedded_as_idx(directory):
    """The embedded sample's 5,000 digits as a train split (what the guide's run used)."""
    images, labels = load_embedded_mnist(quiet=True)
    directory.mkdir()
    write_idx(str(directory / "train-images-idx3-ubyte.gz"), images)
    write_idx(str(directory / "train-labels-idx1-ubyte.gz"), labels)
    return str(directory)


def test_the_guides_nan_example_reproduces(tmp_path, capsys, monkeypatch):
    """The command and the error line of the guide's "NaN or Inf" section, run as printed
    there (on the embedded sample, its default data here)."""
    monkeypatch.chdir(tmp_path)
    text = GUIDE.read_text()
    command = re.search(r"\$ minigan (train --model mlp --lr-g 1e8 [^\n]*)", text).group(1)
    expected = re.search(r"\n(minigan: error: step 1: [^\n]*)", text).group(1)
    argv = command.replace("/tmp/nan-run", str(tmp_path / "nan-run")).split()
    status, out, err = run([*argv, "--no-progress", "--data", embedded_as_idx(tmp_path / "d")],
                           capsys)
    assert status == 1, err
    assert err.splitlines()[-1] == expected
    assert not (tmp_path / "nan-run").exists()  # refused at step 1: nothing left to clean


def test_a_diverging_run_stops_without_writing_a_checkpoint(tmp_path, capsys):
    """The first report's command: LSGAN, learning rates 100, a checkpoint every epoch."""
    data = tiny_data(tmp_path / "data")
    status, out, err = run(["train", "--data", data, "--model", "mlp", "--loss", "lsgan",
                            "--lr-d", "100", "--lr-g", "100", "--checkpoint-every", "1",
                            "--batch-size", "50", "--epochs", "2", *QUIET,
                            "--out", tmp_path / "run"], capsys)
    assert status == 1, err
    assert re.fullmatch(r"minigan: error: step 1: the generator's gradient_norm = \S+ is above "
                        r"9\.22e\+18, where its square overflows float32 .*", err.splitlines()[-1])
    assert not (tmp_path / "run").exists()


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A finished LSGAN run (MLP, 200 digits, 2 epochs of 4 steps)."""
    root = tmp_path_factory.mktemp("good")
    data = tiny_data(root / "data")
    assert mg.cli.main(["train", "--data", data, "--model", "mlp", "--loss", "lsgan",
                        "--batch-size", "50", "--epochs", "2", "--checkpoint-every", "1",
                        "--seed", "3", *QUIET, "--out", str(root / "run")]) == 0
    return data, root / "run"


def test_a_resume_that_diverges_keeps_the_good_checkpoint(good, tmp_path, capsys,
                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(good[1], "run")
    last = tmp_path / "run" / "checkpoints" / "last.npz"
    before = last.read_bytes()
    status, _, err = run(["train", "--resume", last, "--epochs", "4", "--lr-d", "100",
                          "--lr-g", "100", "--allow-change", "lr-d,lr-g", "--no-progress"],
                         capsys)
    assert status == 1, err
    assert re.match(r"minigan: error: step 9: the generator's gradient_norm", err.splitlines()[-1])
    assert last.read_bytes() == before
    assert sorted(p.name for p in last.parent.iterdir()) == [
        "epoch_001.npz", "epoch_002.npz", "last.npz"]
    status, _, err = run(["train", "--resume", last, "--epochs", "3", "--no-progress"], capsys)
    assert status == 0, err  # the kept checkpoint resumes


def test_sample_reads_the_generator_of_a_checkpoint_whose_optimizer_state_overflowed(
        good, tmp_path, capsys, monkeypatch):
    """A checkpoint written before the guard (its D optimizer's v infinite): ``sample``
    needs G's weights only; ``--resume`` still refuses it, naming the entry."""
    monkeypatch.chdir(tmp_path)
    arrays, meta = load_checkpoint(str(good[1] / "checkpoints" / "last.npz"))
    arrays["trainer.opt_d.v.0"][0, :5] = np.inf
    arrays["trainer.D.1.weight"][0, 0] = np.nan
    Path("run/checkpoints").mkdir(parents=True)
    with open("run/checkpoints/last.npz", "wb") as file:
        np.savez(file, __meta__=np.array(json.dumps(meta)), **arrays)
    status, out, err = run(["sample", "run/checkpoints/last.npz", "--n", "4", "--out", "g.png"],
                           capsys)
    assert status == 0, err
    assert Path("g.png").stat().st_size > 0
    status, _, err = run(["train", "--resume", "run/checkpoints/last.npz", "--epochs", "3",
                          "--no-progress"], capsys)
    assert status == 2
    assert "'trainer.D.1.weight': 1 of 401408 values are NaN or infinite" in err


def record(step, d_real=0.7, d_fake=0.2, loss_d=0.8, loss_g=2.0, grad_norm_g=5.0):
    return {"step": step, "d_real": d_real, "d_fake": d_fake, "loss_d": loss_d,
            "loss_g": loss_g, "grad_norm_g": grad_norm_g}


def test_health_names_each_failure_mode_and_nothing_in_a_healthy_epoch():
    healthy = [record(s) for s in range(1, 9)]
    assert health.epoch_findings(healthy, 1, probabilities=True) == []
    sick = [record(s, d_real=1.0 - 1e-4 * (s % 2), d_fake=0.003, loss_g=5e5 + s,
                   grad_norm_g=0.0 if s % 3 == 0 else 4.0) for s in range(1, 9)]
    found = health.epoch_findings(sick, 2, probabilities=True)
    assert [f["problem"] for f in found] == ["D saturates", "a loss explodes",
                                             "G's gradient vanishes"]
    assert found[0]["detail"].startswith("mean D(x) or D(G(z)) within 0.01 of 0 or 1 in 8 of "
                                         "8 steps (medians D(x) 1.000, D(G(z)) 0.003)")
    assert found[1]["detail"] == "medians |loss_g| 5e+05, above 1000"
    assert found[2]["detail"] == "grad_norm_g below 1e-06 in 2 of 8 steps"
    assert [f["problem"] for f in health.epoch_findings(sick, 2, probabilities=False)] == [
        "a loss explodes", "G's gradient vanishes"]  # raw scores: no saturation to read
    line = health.describe(found)
    assert line.startswith("health: epoch 2: D saturates (") and line.endswith(
        "; see docs/training_guide.md, 'What failure looks like'")
    # by epoch: 4 steps an epoch, the sick records in the second
    both = healthy[:4] + [dict(r, step=r["step"] + 4) for r in sick[:4]]
    assert {f["epoch"] for f in health.run_findings(both, 4, True)} == {2}


def test_a_run_with_lr_d_10_is_named_at_each_epoch_and_in_the_summary(tmp_path, capsys):
    data = tiny_data(tmp_path / "data")
    status, out, err = run(["train", "--data", data, "--model", "mlp", "--lr-d", "10",
                            "--batch-size", "50", "--epochs", "2", "--no-progress",
                            "--evaluate", "100", "--out", tmp_path / "run"], capsys)
    assert status == 0, err
    lines = [line for line in out.splitlines() if line.startswith("health: ")]
    assert [line.split(":")[1] for line in lines] == [" epoch 1", " epoch 2"], out
    assert "D saturates" in lines[0] and "a loss explodes" in lines[0]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert {f["problem"] for f in summary["health"]} >= {"D saturates", "a loss explodes"}
    assert {f["epoch"] for f in summary["health"]} == {1, 2}
