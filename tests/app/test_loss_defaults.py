"""Each loss trains with its paper's settings unless told otherwise, and a flag that would
change nothing for the chosen loss or optimizer is refused, not silently ignored."""

import inspect

import numpy as np
import pytest

import minigan as mg
from minigan.app.run import LOSS_DEFAULTS, RunConfig, build_trainer
from minigan.app.validate_config import config_from_dict
from minigan.cli import LOSSES, main
from minigan.gan import training_defaults

QUICK = ["--model", "mlp", "--batch-size", "16", "--no-progress", "--evaluate", "0",
         "--epochs", "1", "--max-steps", "1"]


@pytest.mark.parametrize("loss, expected", [
    ("non-saturating", dict(optimizer="adam", lr_d=2e-4, beta1=0.5, beta2=0.999, d_steps=1,
                            real_label=0.9)),
    ("minimax", dict(optimizer="adam", real_label=0.9, d_steps=1)),
    ("lsgan", dict(optimizer="adam", real_label=1.0)),         # the 0-1 coding
    ("hinge", dict(optimizer="adam", real_label=None)),        # no targets
    ("wgan", dict(optimizer="rmsprop", lr_d=5e-5, lr_g=5e-5, d_steps=5, beta1=None,
                  beta2=None, real_label=None)),
    ("wgan-gp", dict(optimizer="adam", lr_d=1e-4, beta1=0.0, beta2=0.9, d_steps=5,
                     gp_weight=10.0, real_label=None)),
])
def test_every_loss_gets_its_papers_settings(loss, expected):
    config = RunConfig(loss=loss)
    assert {key: getattr(config, key) for key in expected} == expected
    assert set(LOSS_DEFAULTS) == set(mg.gan.OBJECTIVES)
    assert LOSSES == list(mg.gan.OBJECTIVES)           # --loss offers every objective


def test_the_trainer_and_a_run_default_to_the_same_settings():
    d = training_defaults
    shared = (d.LOSS, d.OPTIMIZER, d.LR, d.LR, d.ADAM_BETAS, d.REAL_LABEL, d.D_STEPS, d.SEED)
    trainer = inspect.signature(mg.gan.Trainer).parameters
    assert tuple(trainer[name].default for name in ("loss", "optimizer", "lr_d", "lr_g", "betas",
                                                    "real_label", "d_steps", "seed")) == shared
    c = RunConfig()
    assert (c.loss, c.optimizer, c.lr_d, c.lr_g, (c.beta1, c.beta2), c.real_label, c.d_steps,
            c.seed) == shared
    assert shared == ("non-saturating", "adam", 2e-4, 2e-4, (0.5, 0.999), 0.9, 1, 0)


def test_an_explicit_setting_wins_and_adam_by_name_gets_adams_betas():
    assert RunConfig(loss="wgan", d_steps=2).d_steps == 2
    config = RunConfig(loss="wgan", optimizer="adam")
    assert (config.optimizer, config.beta1, config.beta2, config.lr_d) == \
        ("adam", 0.5, 0.999, 5e-5)
    config = RunConfig(optimizer="rmsprop")
    assert (config.beta1, config.beta2, config.real_label) == (None, None, 0.9)


def test_the_wgan_trainer_uses_rmsprop():
    trainer = build_trainer(RunConfig(loss="wgan", model="mlp"))
    assert isinstance(trainer.opt_d, mg.optim.RMSprop) and trainer.opt_d.lr == 5e-5
    assert trainer.d_steps == 5


def test_settings_stored_before_the_optimizer_was_chosen_mean_adam():
    """A checkpoint's settings from before --optimizer existed: every run then used Adam
    with the DCGAN betas and stored real_label for every loss."""
    stored = {"loss": "wgan", "lr_d": 2e-4, "lr_g": 2e-4, "beta1": 0.5, "beta2": 0.999,
              "real_label": 0.9, "d_steps": 1}
    config = config_from_dict(RunConfig, stored)
    assert (config.optimizer, config.beta1, config.d_steps, config.lr_d) == \
        ("adam", 0.5, 1, 2e-4)


@pytest.mark.parametrize("flags, message", [
    (["--loss", "wgan", "--real-label", "0.9"], "--real-label does not apply to --loss wgan"),
    (["--loss", "hinge", "--real-label", "1.0"], "--real-label does not apply to --loss hinge"),
    (["--loss", "wgan-gp", "--real-label", "0.8"], "--real-label does not apply"),
    (["--loss", "wgan", "--beta1", "0.5"], "--beta1 is Adam's and does not apply to "
                                           "--optimizer rmsprop"),
    (["--optimizer", "rmsprop", "--beta2", "0.9"], "--beta2 is Adam's"),
])
def test_flags_that_would_change_nothing_are_refused(tmp_path, capsys, flags, message):
    assert main(["train", "--out", str(tmp_path / "run"), *QUICK, *flags]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("minigan: error:") and message in err[0]
    assert not (tmp_path / "run").exists()


def test_the_same_flags_where_they_apply_train(tmp_path):
    assert main(["train", "--out", str(tmp_path / "a"), *QUICK, "--loss", "wgan",
                 "--optimizer", "adam", "--beta1", "0.0"]) == 0
    assert main(["train", "--out", str(tmp_path / "b"), *QUICK, "--loss", "lsgan",
                 "--real-label", "0.9"]) == 0
    summary = (tmp_path / "a" / "config.json").read_text()
    assert '"optimizer": "adam"' in summary and '"beta1": 0.0' in summary
    lines = (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1 and np.isfinite(float(__import__("json").loads(lines[0])["loss_d"]))
