"""Loading state from Python is all or nothing, and refuses what a fresh object would
refuse: a layer, an optimizer and a Trainer given one bad entry raise a ``StateError``
naming it and keep every value they had; the other entry points refuse their degenerate
inputs with minigan's own errors (no raw ValueError, ZeroDivisionError or MemoryError,
no silently dropped array)."""

import numpy as np
import pytest

import minigan as mg
from minigan.checkpoint import CheckpointError, save_checkpoint
from minigan.errors import ConfigError, NonFiniteError, ShapeError, StateError
from minigan.gan import Trainer
from minigan.optim import Adam, RMSprop
from minigan.plots import save_image_grid


def snapshot(module):
    return {k: np.array(v, copy=True) for k, v in module.state_dict().items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


BAD_BIAS = [
    ("strings", np.array(["a", "b"]), r"'bias' has dtype <U1, expected real numbers"),
    ("complex", np.zeros(2, np.complex128), r"'bias' has dtype complex128, expected real"),
    ("NaN", np.array([0.0, np.nan]), r"'bias': 1 of 2 values are NaN or infinite in float32"),
    ("1e300", np.array([1e300, 0.0]), r"'bias': 1 of 2 values are NaN or infinite in float32"),
    ("a list", [0.0, 1.0], r"'bias' is list, expected an array of shape \(2,\)"),
]


@pytest.mark.parametrize("name, bias, pattern", BAD_BIAS, ids=[r[0] for r in BAD_BIAS])
def test_a_layer_given_one_bad_entry_keeps_all_its_values(name, bias, pattern):
    layer = mg.nn.Dense(3, 2, rng=mg.backend.default_rng(0))
    before = snapshot(layer)
    state = {"weight": np.full((3, 2), 7.0), "bias": bias}  # a good weight first
    with pytest.raises(StateError, match=r"^Dense\.load_state_dict: " + pattern):
        layer.load_state_dict(state)
    assert_same(snapshot(layer), before)


def test_a_negative_running_variance_is_refused():
    norm = mg.nn.BatchNorm2d(3)
    state = snapshot(norm)
    state["running_var"] = np.array([1.0, -0.5, 2.0])
    with pytest.raises(StateError, match=r"'running_var' holds negative values"):
        norm.load_state_dict(state)
    state["running_var"] = np.array([1.0, 0.0, 2.0])  # zero is a variance (eps keeps it safe)
    norm.load_state_dict(state)


@pytest.mark.parametrize("entry, value, pattern", [
    ("lr", np.nan, r"'lr': expected a finite number >= 0, got nan"),
    ("lr", -1.0, r"'lr': expected a finite number >= 0, got -1\.0"),
    ("t", -5, r"'t': expected an integer >= 0, got -5"),
    ("t", 2.5, r"'t': expected an integer >= 0, got 2\.5"),
    ("v.0", np.full((3, 2), -1.0), r"'v\.0' holds negative values"),
    ("m.0", np.full((3, 2), np.inf), r"'m\.0': 6 of 6 values are NaN or infinite"),
])
def test_an_optimizer_given_one_bad_entry_keeps_its_state(entry, value, pattern):
    layer = mg.nn.Dense(3, 2, rng=mg.backend.default_rng(0))
    opt = Adam(layer.parameters())
    state = opt.state_dict()
    before = {k: np.array(v, copy=True) for k, v in state.items()}
    with pytest.raises(StateError, match=pattern):
        opt.load_state_dict({**state, entry: value})
    assert opt.lr == before["lr"] and opt.t == before["t"]
    np.testing.assert_array_equal(opt.v[0], before["v.0"])


def test_rmsprop_refuses_a_nan_learning_rate():
    opt = RMSprop(mg.nn.Dense(3, 2).parameters())
    with pytest.raises(StateError, match=r"'lr': expected a finite number >= 0, got nan"):
        opt.load_state_dict({**opt.state_dict(), "lr": float("nan")})


def small_trainer():
    rng = mg.backend.default_rng(0)
    G = mg.gan.mlp_generator(4, hidden=(8,), image_shape=(4, 4, 1), dtype="float64", rng=rng)
    D = mg.gan.mlp_discriminator(image_shape=(4, 4, 1), hidden=(8,), dtype="float64", rng=rng)
    return Trainer(G, D)


@pytest.mark.parametrize("key, value", [("step_count", -1), ("step_count", 2**64 - 1),
                                        ("seed", -3), ("step_count", 1.5)])
def test_a_trainer_refuses_counters_a_trainer_cannot_have(key, value):
    trainer = small_trainer()
    before = snapshot(trainer)
    with pytest.raises(StateError, match=rf"'{key}' must be an integer from 0 to 2\*\*63 - 1"):
        trainer.load_state_dict({**trainer.state_dict(), key: value})
    assert_same(snapshot(trainer), before)


def test_sampling_more_than_fits_is_a_config_error():
    with pytest.raises(ConfigError, match=r"Trainer\.sample: n must be at most 1,000,000 "):
        small_trainer().sample(10**12)


def test_a_grid_of_no_images_or_of_nan_images_is_refused(tmp_path):
    with pytest.raises(ShapeError, match=r"expected at least one image"):
        save_image_grid(np.zeros((0, 28, 28, 1)), tmp_path / "g.png")
    images = np.zeros((4, 28, 28, 1))
    images[1, 3, 3, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"1 of 3136 pixel values are NaN or infinite"):
        save_image_grid(images, tmp_path / "g.png")
    assert list(tmp_path.iterdir()) == []


def test_an_array_named_like_the_metadata_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match=r"'__meta__' is the name of the metadata entry"):
        save_checkpoint(tmp_path / "c.npz", {"__meta__": np.ones(3)})
    assert list(tmp_path.iterdir()) == []
