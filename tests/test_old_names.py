"""What moved keeps its old name: code written against ``minigan.gan.run`` and the other
run modules, or ``minigan.init.dcgan_init_``, gets the very same modules and objects."""

import importlib
import subprocess
import sys

import pytest

import minigan.app.config_checks
import minigan.app.evaluate
import minigan.app.resume
import minigan.app.run
import minigan.app.run_dir

MOVED = {
    "minigan.gan.run": minigan.app.run,
    "minigan.gan.evaluate": minigan.app.evaluate,
    "minigan.gan.config_checks": minigan.app.config_checks,
    "minigan.gan.resume": minigan.app.resume,
    "minigan.gan.run_dir": minigan.app.run_dir,
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_name_is_the_moved_module(old):
    assert importlib.import_module(old) is MOVED[old]


def test_the_documented_old_names_are_the_same_objects():
    from minigan.gan.config_checks import RunConfigError
    from minigan.gan.evaluate import evaluate_checkpoint, evaluate_trainer, generate
    from minigan.gan.resume import ResumeError
    from minigan.gan.run import LOSS_DEFAULTS, RunConfig, TrainingInterrupted, load_trainer, train
    from minigan.gan.run_dir import RunDirectoryError

    app = minigan.app
    assert RunConfig is app.run.RunConfig and train is app.run.train
    assert LOSS_DEFAULTS is app.run.LOSS_DEFAULTS and load_trainer is app.run.load_trainer
    assert TrainingInterrupted is app.run.TrainingInterrupted
    assert evaluate_checkpoint is app.evaluate.evaluate_checkpoint
    assert evaluate_trainer is app.evaluate.evaluate_trainer and generate is app.evaluate.generate
    assert RunConfigError is app.config_checks.RunConfigError
    assert ResumeError is app.resume.ResumeError
    assert RunDirectoryError is app.run_dir.RunDirectoryError
    assert RunConfig().loss == "non-saturating" and LOSS_DEFAULTS["wgan"]["d_steps"] == 5


def test_the_old_package_attribute_reaches_the_moved_module():
    import minigan as mg
    import minigan.gan.run  # noqa: F401  (the import sets the package attribute)

    assert mg.gan.run is minigan.app.run


def test_old_names_import_first_thing_in_a_fresh_interpreter():
    script = ("from minigan.gan.run import RunConfig, train\n"
              "from minigan.init import dcgan_init_\n"
              "import minigan.app.run, minigan.gan\n"
              "assert RunConfig is minigan.app.run.RunConfig and train is minigan.app.run.train\n"
              "assert dcgan_init_ is minigan.gan.dcgan_init_\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_the_checks_keep_their_old_module_name():
    import minigan.checks
    import minigan.nn.checks

    assert minigan.nn.checks is minigan.checks
    from minigan.nn.checks import finite_number
    assert finite_number is minigan.checks.finite_number


def test_dcgan_init_keeps_its_old_name():
    import minigan as mg
    from minigan.gan.dcgan_init import dcgan_init_

    assert mg.init.dcgan_init_ is dcgan_init_ and mg.gan.dcgan_init_ is dcgan_init_
    layer = dcgan_init_(mg.nn.Dense(300, 200, dtype="float64"), rng=mg.backend.default_rng(0))
    assert abs(float(layer.weight.data.std()) - 0.02) < 0.001
    assert not layer.bias.data.any()
