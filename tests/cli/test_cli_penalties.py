"""The command line with gradient penalties: ``--loss wgan-gp`` takes the paper's settings
unless told otherwise, ``--gp-weight`` and ``--r1`` reach the trainer, the run directory
logs the penalty, ||grad_x D|| and the Wasserstein estimate, and a resumed WGAN-GP run
continues bit for bit."""

import json

import pytest
from cli_rows import training_numbers

from minigan.app.run import RunConfig
from minigan.checkpoint import load_checkpoint
from minigan.cli import main

QUICK = ["--batch-size", "16", "--no-progress", "--seed", "3", "--evaluate", "0",
         "--epochs", "1"]


def train(out, *extra):
    assert main(["train", "--out", str(out), *QUICK, *extra]) == 0
    config = json.loads((out / "config.json").read_text())
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return config, lines


def test_wgan_gp_on_the_dcgan_uses_the_papers_settings_and_the_layer_norm_critic(tmp_path):
    out = tmp_path / "run"
    config, lines = train(out, "--loss", "wgan-gp", "--max-steps", "2")
    assert {k: config[k] for k in ("lr_d", "lr_g", "beta1", "beta2", "d_steps", "gp_weight")} \
        == {"lr_d": 1e-4, "lr_g": 1e-4, "beta1": 0.0, "beta2": 0.9, "d_steps": 5,
            "gp_weight": 10.0}
    assert [line["step"] for line in lines] == [1, 2]
    for line in lines:
        assert line["penalty"] > 0 and line["grad_norm_x"] > 0
        assert line["wasserstein"] == pytest.approx(line["d_real"] - line["d_fake"])
    arrays, _ = load_checkpoint(str(out / "checkpoints" / "last.npz"))
    assert arrays["trainer.D.3.weight"].shape == (7, 7, 128)       # LayerNorm's gamma
    assert int(arrays["trainer.opt_d.t"]) == 10                     # 5 critic steps per step
    assert (out / "curves.png").is_file()


def test_the_settings_can_be_overridden_and_other_losses_keep_theirs(tmp_path):
    config, _ = train(tmp_path / "a", "--loss", "wgan-gp", "--model", "mlp", "--max-steps", "1",
                      "--d-steps", "2", "--lr-d", "3e-4", "--beta1", "0.5", "--beta2", "0.99",
                      "--gp-weight", "5")
    assert (config["d_steps"], config["lr_d"], config["lr_g"], config["beta1"],
            config["beta2"], config["gp_weight"]) == (2, 3e-4, 1e-4, 0.5, 0.99, 5.0)
    plain = RunConfig()
    assert (plain.lr_d, plain.lr_g, plain.beta1, plain.beta2, plain.d_steps, plain.gp_weight,
            plain.r1) == (2e-4, 2e-4, 0.5, 0.999, 1, None, 0.0)


def test_r1_with_the_non_saturating_loss_logs_its_penalty(tmp_path):
    config, lines = train(tmp_path / "r1", "--r1", "10", "--max-steps", "2")
    assert config["r1"] == 10.0 and config["loss"] == "non-saturating"
    assert all(line["penalty"] > 0 and "wasserstein" not in line for line in lines)
    arrays, _ = load_checkpoint(str(tmp_path / "r1" / "checkpoints" / "last.npz"))
    assert arrays["trainer.D.3.weight"].shape == (7, 7, 128)       # the LayerNorm critic


@pytest.mark.parametrize("flags, message", [
    (["--gp-weight", "5"], "gp_weight is WGAN-GP's lambda and needs loss 'wgan-gp'"),
    (["--r1", "1", "--loss", "hinge"], "r1=1.0 is offered with the BCE objectives"),
    (["--loss", "wgan-gp", "--spectral-norm"], "a critic for a gradient penalty is offered"),
])
def test_penalty_flags_that_do_not_fit_are_refused(tmp_path, capsys, flags, message):
    """Bad input: exit 2, one line, before the run directory is made."""
    assert main(["train", "--out", str(tmp_path / "x"), *QUICK, "--max-steps", "1",
                 *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigan: error:") and message in err[0]
    assert not (tmp_path / "x").exists()


def test_a_resumed_wgan_gp_run_continues_bit_for_bit(tmp_path):
    flags = ["--loss", "wgan-gp", "--model", "mlp", "--d-steps", "2"]
    train(tmp_path / "straight", *flags, "--max-steps", "4")
    train(tmp_path / "resumed", *flags, "--max-steps", "2")
    _, lines = train(tmp_path / "resumed", *flags, "--max-steps", "4", "--resume",
                     str(tmp_path / "resumed" / "checkpoints" / "last.npz"))
    a, _ = load_checkpoint(str(tmp_path / "straight" / "checkpoints" / "last.npz"))
    b, _ = load_checkpoint(str(tmp_path / "resumed" / "checkpoints" / "last.npz"))
    assert a.keys() == b.keys() and int(a["trainer.step_count"]) == 4
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
    assert training_numbers(tmp_path / "straight") == training_numbers(tmp_path / "resumed")
    assert [line["step"] for line in lines] == [1, 2, 3, 4]
