"""Softmax cross-entropy: value, gradient (finite differences, PyTorch), stability, errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, DTypeError, ShapeError, StateError
from minigan.functional.cross_entropy import (
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from minigan.gradcheck import numerical_gradient
from minigan.losses import CrossEntropy


def reference_cross_entropy(z, y):
    """Textbook -log softmax with math (fine for moderate logits)."""
    total = 0.0
    for row, label in zip(z, y):
        total -= math.log(math.exp(row[label]) / sum(math.exp(v) for v in row))
    return total / len(y)


def assert_gradients_close(analytic, numeric):
    """Relative to the gradient's size, with an absolute floor: a confident, correct
    prediction has a loss near 0 whose rounding (~1e-16 absolute) over 2 eps = 2e-6
    gives ~1e-10 of finite-difference noise on gradients that may be ~1e-5."""
    xp = mg.backend.xp
    error = float(xp.abs(analytic - numeric).max())
    assert error < 1e-9 + 1e-7 * float(xp.abs(numeric).max())


def draw(seed, n, k, scale=4.0):
    rng = mg.backend.default_rng(seed)
    logits = rng.standard_normal((n, k)) * scale
    labels = rng.integers(0, k, size=n)
    return logits, labels


@given(n=st.integers(1, 6), k=st.integers(2, 5), seed=st.integers(0, 10_000))
def test_value_and_gradient(array_backend, n, k, seed):
    logits, labels = draw(seed, n, k)
    before = logits.copy()
    loss = CrossEntropy()
    value = loss(logits, labels)
    assert isinstance(value, float)
    assert value == pytest.approx(reference_cross_entropy(mg.backend.to_numpy(logits),
                                                          mg.backend.to_numpy(labels)),
                                  rel=1e-10, abs=1e-14)
    analytic = loss.backward()
    assert analytic.dtype == logits.dtype and tuple(analytic.shape) == (n, k)
    numeric = numerical_gradient(lambda: CrossEntropy()(logits, labels), logits)
    assert_gradients_close(analytic, numeric)
    assert bool((logits == before).all())  # neither forward nor backward mutates logits


@given(n=st.integers(1, 5), k=st.integers(2, 4), seed=st.integers(0, 10_000),
       upstream=st.floats(-3, 3).filter(lambda u: abs(u) > 1e-3))
def test_functional_pair_with_random_upstream(array_backend, n, k, seed, upstream):
    logits, labels = draw(seed, n, k)
    value, cache = softmax_cross_entropy_forward(logits, labels)
    assert value.shape == () and value.dtype == logits.dtype
    analytic = softmax_cross_entropy_backward(cache, upstream)

    def scaled():
        return upstream * float(softmax_cross_entropy_forward(logits, labels)[0])

    assert_gradients_close(analytic, numerical_gradient(scaled, logits))
    # each row of (softmax - onehot) sums to 0
    np.testing.assert_allclose(mg.backend.to_numpy(analytic.sum(axis=1)), 0, atol=1e-12)


@given(n=st.integers(1, 8), k=st.integers(2, 10), seed=st.integers(0, 10_000))
def test_matches_torch(n, k, seed):
    torch = pytest.importorskip("torch")
    logits, labels = draw(seed, n, k, scale=10.0)
    loss = CrossEntropy()
    value = loss(logits, labels)
    grad = loss.backward()
    z = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(z, torch.tensor(labels))
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(grad, z.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exact_and_finite_at_huge_logits(array_backend, dtype):
    xp = array_backend
    logits = xp.asarray(np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [5e3, 5e3, -1e4]],
                                 dtype=dtype))
    labels = xp.asarray(np.array([0, 1, 1]))
    loss = CrossEntropy()
    # per sample: 0, 2e4, log 2 (two equal top logits)
    assert loss(logits, labels) == pytest.approx((0 + 2e4 + math.log(2)) / 3, rel=1e-6)
    grad = mg.backend.to_numpy(loss.backward())
    assert grad.dtype == np.dtype(dtype)
    expected = np.array([[0, 0, 0], [1, -1, 0], [0.5, -0.5, 0]]) / 3
    np.testing.assert_allclose(grad, expected, rtol=1e-6, atol=1e-12)


def test_uint8_labels_and_trains_a_linear_classifier():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 3))
    labels = (x @ np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0], [1.0, 1.0, 1.0]])).argmax(1)
    w = np.zeros((3, 3))
    loss = CrossEntropy()
    first = loss(x @ w, labels.astype(np.uint8))
    for _ in range(200):
        loss(x @ w, labels.astype(np.uint8))
        w -= 1.0 * x.T @ loss.backward()
    assert first == pytest.approx(math.log(3))
    assert loss(x @ w, labels.astype(np.uint8)) < 0.2


def test_errors_are_clear(array_backend):
    xp = array_backend
    loss = CrossEntropy()
    logits = xp.zeros((4, 3))
    with pytest.raises(StateError, match="before the loss was computed"):
        loss.backward()
    with pytest.raises(DTypeError, match="logits must be a floating"):
        loss(xp.zeros((4, 3), dtype=xp.int64), xp.zeros(4, dtype=xp.int64))
    with pytest.raises(ShapeError, match=r"2-d array \(N, K\), got shape \(4,\)"):
        loss(xp.zeros(4), xp.zeros(4, dtype=xp.int64))
    with pytest.raises(DTypeError, match="labels must be an integer"):
        loss(logits, xp.zeros(4))
    with pytest.raises(ShapeError, match=r"labels shape \(3,\).*expected \(4,\)"):
        loss(logits, xp.zeros(3, dtype=xp.int64))
    with pytest.raises(ConfigError, match=r"labels must lie in \[0, 3\).*\[0, 3\]"):
        loss(logits, xp.asarray(np.array([0, 1, 2, 3])))
    with pytest.raises(ConfigError, match=r"\[-1, 0\]"):
        loss(logits, xp.asarray(np.array([0, 0, -1, 0])))


def test_refuses_host_labels_on_the_strict_backend():
    from strict_backend import strict_backend

    with strict_backend() as xp:
        with pytest.raises(DTypeError, match="labels must be an integer strict array"):
            CrossEntropy()(xp.zeros((2, 3)), np.zeros(2, dtype=np.int64))
