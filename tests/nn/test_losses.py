"""BCE on logits: value, gradient, stability at extreme logits, soft targets, errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, ShapeError, StateError
from minigan.gradcheck import numerical_gradient, relative_error


def log_sigmoid(z):
    """log sigma(z) in plain floats, accurate for both signs of z."""
    return -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))


def reference_bce(z, y):
    """The textbook form -[y log sigma(z) + (1 - y) log(1 - sigma(z))], one element at a
    time with math's functions (1 - sigma(z) = sigma(-z))."""
    total = 0.0
    for zi, yi in zip(np.ravel(z), np.ravel(y)):
        total += -(yi * log_sigmoid(zi) + (1 - yi) * log_sigmoid(-zi))
    return total / np.size(z)


@given(n=st.integers(1, 6), m=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_value_and_gradient(array_backend, n, m, seed):
    rng = mg.backend.default_rng(seed)
    logits = rng.standard_normal((n, m)) * 4
    targets = rng.random((n, m))
    loss = mg.losses.BCEWithLogits()
    value = loss(logits, targets)
    assert isinstance(value, float)
    assert value == pytest.approx(reference_bce(mg.backend.to_numpy(logits),
                                                mg.backend.to_numpy(targets)), rel=1e-12)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda: mg.losses.BCEWithLogits()(logits, targets), logits)
    assert relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exact_and_finite_at_extreme_logits(array_backend, dtype):
    xp = array_backend
    logits = xp.asarray(np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype))
    targets = xp.asarray(np.array([[1.0], [0.0], [0.9], [0.9]], dtype=dtype))
    loss = mg.losses.BCEWithLogits()
    # per element: 0, 0, 1e4 * 0.1, 1e4 * 0.9  (log1p(exp(-1e4)) == 0 exactly)
    assert loss(logits, targets) == pytest.approx((0 + 0 + 1000 + 9000) / 4, rel=1e-6)
    grad = mg.backend.to_numpy(loss.backward())
    np.testing.assert_allclose(grad.ravel(), [0, 0, 0.1 / 4, -0.9 / 4], rtol=1e-6, atol=1e-12)
    assert grad.dtype == np.dtype(dtype)


def test_scalar_target_is_label_smoothing():
    logits = np.array([[0.3], [-1.2]])
    loss = mg.losses.BCEWithLogits()
    assert loss(logits, 0.9) == pytest.approx(reference_bce(logits, np.full((2, 1), 0.9)))


def test_errors_name_the_shapes_and_ranges():
    loss = mg.losses.BCEWithLogits()
    with pytest.raises(ShapeError, match=r"logits shape \(4, 1\) and targets shape \(4,\)"):
        loss(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ConfigError, match=r"targets must lie in \[0, 1\].*1.5"):
        loss(np.zeros((2, 1)), np.array([[0.5], [1.5]]))
    with pytest.raises(StateError, match="before the loss was computed"):
        mg.losses.BCEWithLogits().backward()
