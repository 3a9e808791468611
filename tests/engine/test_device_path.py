"""The device (CuPy) path end to end, on the strict CuPy-like backend.

Real CuPy needs a GPU; here ``--backend cupy`` is served by the strict backend
(``strict_backend.py``: device arrays that refuse implicit conversion to NumPy), so the
whole command line -- data loader, trainer, sampling, checkpoints, plots, evaluation --
runs with device arrays, and every device->host transfer is counted.
"""

import collections
import json

import numpy as np
import pytest
import strict_backend

from minigan import backend
from minigan.cli import main
from minigan.errors import ConfigError
from minigan.gan import (
    Trainer,
    conditional_discriminator,
    conditional_generator,
    dcgan_discriminator,
    dcgan_generator,
)
from minigan.gan import trainer as trainer_module

# the StrictArray methods through which data leaves the "device"
TRANSFERS = ["__float__", "__bool__", "__int__", "get", "item", "tolist"]


@pytest.fixture
def transfers(monkeypatch):
    """Counts device->host transfers by kind while the test runs."""
    counts = collections.Counter()
    for name in TRANSFERS:
        original = getattr(strict_backend.StrictArray, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            counts[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(strict_backend.StrictArray, name, counted)
    return counts


@pytest.fixture
def cupy_is_strict(monkeypatch):
    """``backend.use("cupy")`` activates the strict backend (no GPU needed)."""
    use = backend.use

    def use_strict_for_cupy(name):
        if name == "cupy":
            return backend._activate(strict_backend.strict_xp, "cupy")
        return use(name)

    monkeypatch.setattr(backend, "use", use_strict_for_cupy)


def test_a_training_step_transfers_only_its_logged_numbers(transfers):
    """Per step: one sync for the finiteness check of the real batch, the seven logged
    floats (loss_real, loss_fake, d_real, d_fake, grad_norm_d, loss_g, grad_norm_g) and
    one float per network update for the check that its weights are still finite (a
    float64 sum, ``gan.finite_state.check_weights``), nothing else -- no array comes back
    to the host."""
    strict_backend.activate()
    rng = backend.default_rng(0)
    trainer = Trainer(dcgan_generator(rng=rng), dcgan_discriminator(rng=rng))
    real = backend.default_rng(1).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    trainer.step(real)  # warm-up: nothing is allocated lazily on the host
    transfers.clear()
    stats = trainer.step(real)
    assert dict(transfers) == {"__bool__": 1, "__float__": 7 + 2}
    assert all(isinstance(v, (int, float)) for v in stats.values())


def test_a_conditional_step_checks_the_label_range_once(transfers):
    """Labels are range-checked once per step (one more sync), not on every network pass;
    out-of-range labels given to step or sample are refused."""
    strict_backend.activate()
    rng = backend.default_rng(0)
    G = conditional_generator(8, 10, hidden=(16,), image_shape=(8, 8, 1), rng=rng)
    D = conditional_discriminator(10, image_shape=(8, 8, 1), hidden=(16,), rng=rng)
    trainer = Trainer(G, D, latent_dim=8)
    real = backend.default_rng(1).uniform(-1, 1, (6, 8, 8, 1)).astype("float32")
    labels = backend.xp.arange(6) % 10
    trainer.step(real, labels)
    transfers.clear()
    trainer.step(real, labels)
    assert dict(transfers) == {"__bool__": 2, "__float__": 7 + 2}   # as above
    out_of_range = r"labels must lie in \[0, 10\), got values in \[{}\]"
    with pytest.raises(ConfigError, match=out_of_range.format("0, 10")):
        trainer.step(real, backend.xp.asarray(np.array([0, 1, 2, 3, 4, 10])))
    with pytest.raises(ConfigError, match=out_of_range.format("-1, 0")):
        trainer.sample(2, labels=backend.xp.asarray(np.array([-1, 0])))


def test_the_command_line_trains_samples_and_evaluates_on_the_device_backend(
        tmp_path, monkeypatch, cupy_is_strict, capsys):
    batches = []
    step = trainer_module.Trainer.step

    def recording_step(self, real, labels=None):
        batches.append(type(real))
        return step(self, real, labels)

    monkeypatch.setattr(trainer_module.Trainer, "step", recording_step)
    out = tmp_path / "run"
    assert main(["train", "--backend", "cupy", "--out", str(out), "--epochs", "1",
                 "--max-steps", "3", "--batch-size", "8", "--no-progress",
                 "--evaluate", "50"]) == 0
    assert batches == [strict_backend.StrictArray] * 3  # the loader hands out device arrays

    # checkpoints hold plain NumPy arrays, readable without minigan or a GPU
    with np.load(out / "checkpoints" / "last.npz", allow_pickle=False) as saved:
        weight = saved["trainer.G.0.weight"]
        assert type(weight) is np.ndarray and weight.dtype == np.float32
        assert np.isfinite(weight).all()
    assert [json.loads(line)["step"] for line in
            (out / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    for png in [out / "samples" / "epoch_001.png", out / "curves.png"]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    grid = tmp_path / "grid.png"
    assert main(["sample", str(out / "checkpoints" / "last.npz"), "--n", "4",
                 "--out", str(grid)]) == 0
    assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert backend.name == "cupy"  # the checkpoint's backend was restored
    assert main(["evaluate", str(out / "checkpoints" / "last.npz"), "--n", "20"]) == 0
    assert "Classes present" in capsys.readouterr().out

    # a run trained on the GPU is sampled and scored on the CPU: --backend numpy
    on_host = tmp_path / "host.png"
    assert main(["sample", str(out / "checkpoints" / "last.npz"), "--n", "4",
                 "--out", str(on_host), "--backend", "numpy"]) == 0
    assert backend.name == "numpy" and on_host.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["evaluate", str(out / "checkpoints" / "last.npz"), "--n", "20",
                 "--backend", "numpy"]) == 0
    assert backend.name == "numpy" and "Classes present" in capsys.readouterr().out
