"""MinibatchStdDev: forward against a NumPy reference, backward against finite
differences (float64, random upstream gradient, hypothesis-drawn shapes, batch sizes
and group sizes of at least 2, where a gradient flows through the statistic) on NumPy
and on the strict CuPy-like backend, errors, and PyTorch autograd parity.

Run: python -m pytest tests/nn/test_minibatch_stddev.py
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, DTypeError, ShapeError, StateError
from minigan.gradcheck import check_module

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)


def reference(x, eps, g):
    """The formula, on the host: per-group biased std per feature, averaged, appended."""
    n = x.shape[0]
    groups = x.reshape(n // g, g, -1)
    s = np.sqrt(groups.var(axis=1) + eps).mean(axis=1)              # (G,)
    column = np.repeat(s, g).reshape((n,) + (1,) * (x.ndim - 1))
    return np.concatenate([x, np.broadcast_to(column, x.shape[:-1] + (1,))], axis=-1)


@st.composite
def batches(draw):
    """(shape, group_size): (N, F) or NHWC, N in 1..6, group_size None or a divisor of N."""
    n = draw(st.integers(1, 6))
    if draw(st.booleans()):
        shape = (n, draw(st.integers(1, 5)))
    else:
        shape = (n, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    g = draw(st.sampled_from([None] + [d for d in range(1, n + 1) if n % d == 0]))
    return shape, g


@st.composite
def informative_batches(draw):
    """(shape, group_size) as ``batches`` draws them, but with N in 2..6 and groups of at
    least 2 samples (group_size None or a divisor of N that is >= 2): the cases where
    the statistic depends on x, so a gradient flows through it. (A group of one sample
    has its own test below.)"""
    n = draw(st.integers(2, 6))
    if draw(st.booleans()):
        shape = (n, draw(st.integers(1, 5)))
    else:
        shape = (n, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    g = draw(st.sampled_from([None] + [d for d in range(2, n + 1) if n % d == 0]))
    return shape, g


def far_from_zero_variance(x, g):
    """Every group of more than one sample has std > 1e-3 per feature (so the sqrt is
    smooth at the scale of the finite-difference step)."""
    g = g or x.shape[0]
    return g == 1 or x.reshape(x.shape[0] // g, g, -1).std(axis=1).min() > 1e-3


@given(batch=informative_batches(), seed=seeds)
def test_gradient_through_the_statistic_matches_finite_differences(array_backend, batch, seed):
    """Groups of 2 or more samples: the input gradient for a random upstream gradient
    differs from the pass-through part gy[..., :-1] (a gradient flows through the
    statistic), and check_module finds every element of it within 1e-6 of finite
    differences."""
    shape, g = batch
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    assume(far_from_zero_variance(x, g))
    layer = mg.nn.MinibatchStdDev(group_size=g)
    gy = rng.standard_normal(shape[:-1] + (shape[-1] + 1,))
    layer(mg.backend.to_device(x))
    gx = mg.backend.to_numpy(layer.backward(mg.backend.to_device(gy)))
    assert np.abs(gx - gy[..., :-1]).max() > 1e-9 * np.abs(gy).max()
    errors = check_module(layer, mg.backend.to_device(x))
    assert [e.name for e in errors] == ["input"]
    assert errors[0].within(TOLERANCE), errors[0]


@given(batch=batches(), eps=st.sampled_from([1e-8, 1e-3, 0.5]), seed=seeds)
def test_forward_matches_the_reference(array_backend, batch, eps, seed):
    shape, g = batch
    x = np.random.default_rng(seed).standard_normal(shape)
    y = mg.nn.MinibatchStdDev(eps=eps, group_size=g)(mg.backend.to_device(x))
    assert y.shape == shape[:-1] + (shape[-1] + 1,)
    np.testing.assert_allclose(mg.backend.to_numpy(y), reference(x, eps, g or shape[0]),
                               rtol=1e-13, atol=0)


@given(f=st.integers(1, 5), seed=seeds)
def test_batch_of_two_has_the_closed_form(f, seed):
    """N = 2: sigma_f = sqrt(((x1 - x2) / 2)^2 + eps)."""
    x = np.random.default_rng(seed).standard_normal((2, f))
    eps = 1e-8
    s = np.sqrt(((x[0] - x[1]) / 2) ** 2 + eps).mean()
    y = mg.nn.MinibatchStdDev(eps=eps)(x)
    np.testing.assert_allclose(y[:, -1], [s, s], rtol=1e-14)


@pytest.mark.parametrize("shape, group_size", [((1, 4), None), ((1, 2, 2, 3), None),
                                                ((3, 4), 1), ((4, 2, 3, 1), 1)])
def test_one_sample_per_group_gives_sqrt_eps_and_no_gradient_through_s(
        array_backend, shape, group_size):
    """A group of one sample has variance 0 whatever x is: s = sqrt(eps) exactly, and
    the gradient is only the identity part (the s-channel's gradient is dropped)."""
    eps = 1e-6
    rng = np.random.default_rng(0)
    x, gy = rng.standard_normal(shape), rng.standard_normal(shape[:-1] + (shape[-1] + 1,))
    layer = mg.nn.MinibatchStdDev(eps=eps, group_size=group_size)
    y = mg.backend.to_numpy(layer(mg.backend.to_device(x)))
    np.testing.assert_allclose(y[..., -1], np.full(shape[:-1], np.sqrt(eps)), rtol=1e-15)
    np.testing.assert_array_equal(y[..., :-1], x)
    gx = mg.backend.to_numpy(layer.backward(mg.backend.to_device(gy)))
    np.testing.assert_array_equal(gx, gy[..., :-1])


def test_groups_are_consecutive_samples():
    """group_size=2 on [a, a, b, c]: the first pair has std 0, the second does not."""
    x = np.array([[1.0], [1.0], [0.0], [2.0]])
    y = mg.nn.MinibatchStdDev(eps=0.25 ** 2, group_size=2)(x)
    second = np.sqrt(1 + 0.25 ** 2)  # [0, 2]: mean 1, biased variance 1
    np.testing.assert_allclose(y[:, 1], [0.25, 0.25, second, second], rtol=1e-15)


def test_lab_discriminator_float32_and_its_gradients():
    """The 1-D GAN lab's D: Dense(1, 32) -> LeakyReLU -> MinibatchStdDev -> Dense(33, 1).
    In float32 it keeps float32 (forward, and backward of a random upstream gradient);
    in float64, with random biases and 64 inputs chosen so that every LeakyReLU input is
    at least 1e-3 from the kink at 0 (far beyond the finite-difference step), its
    gradients match finite differences along random directions."""
    rng = np.random.default_rng(1)
    d32 = mg.nn.Sequential(mg.nn.Dense(1, 32), mg.nn.LeakyReLU(0.2), mg.nn.MinibatchStdDev(),
                           mg.nn.Dense(33, 1))
    x = rng.standard_normal((64, 1)).astype(np.float32)
    y = d32(x)
    assert y.shape == (64, 1) and y.dtype == np.float32
    gx = d32.backward(rng.standard_normal((64, 1)).astype(np.float32))
    assert gx.shape == (64, 1) and gx.dtype == np.float32
    d64 = mg.nn.Sequential(mg.nn.Dense(1, 32, dtype="float64"), mg.nn.LeakyReLU(0.2),
                           mg.nn.MinibatchStdDev(), mg.nn.Dense(33, 1, dtype="float64"))
    d64[0].bias.data[...] = rng.normal(0, 0.5, 32)  # the 32 kinks sit at x = -b / w
    candidates = rng.standard_normal((400, 1))
    distance = np.abs(d64[0](candidates)).min(axis=1)  # to the nearest kink, per input
    x64 = candidates[distance > 1e-3][:64]
    assert x64.shape == (64, 1)
    assert np.abs(d64[0](x64)).min() > 1e-3  # every LeakyReLU input is off its kink
    errors = check_module(d64, x64, mode="directional")
    assert all(e.within(TOLERANCE) for e in errors), errors


def test_backward_contract(array_backend):
    layer = mg.nn.MinibatchStdDev(group_size=2)
    rng = mg.backend.default_rng(0)
    x, gy = rng.standard_normal((4, 3, 2, 2)), rng.standard_normal((4, 3, 2, 3))
    with pytest.raises(StateError, match="MinibatchStdDev.*without a preceding forward"):
        layer.backward(gy)
    layer(x)
    saved = gy.copy()
    gx = layer.backward(gy)
    assert gx.shape == x.shape and bool((gy == saved).all())  # gy is not mutated
    layer(x)
    assert layer.backward(gy, need_input_grad=False) is None
    with pytest.raises(StateError):
        layer.backward(gy)  # the cache was consumed


def test_float32_stays_float32(array_backend):
    x = mg.backend.default_rng(0).standard_normal((5, 2, 2, 3), dtype="float32")
    layer = mg.nn.MinibatchStdDev()
    assert layer(x).dtype == x.dtype
    assert layer.backward(mg.backend.xp.ones((5, 2, 2, 4), dtype="float32")).dtype == x.dtype


def test_bad_inputs_name_the_layer_expected_and_got():
    layer = mg.nn.MinibatchStdDev(group_size=4)
    with pytest.raises(ShapeError, match=r"MinibatchStdDev\(.*multiple of group_size=4.*"
                                         r"got shape \(6, 3\)"):
        layer(np.zeros((6, 3)))
    with pytest.raises(ShapeError, match=r"MinibatchStdDev.*2-d \(N, F\) or 4-d.*got shape "
                                         r"\(4, 3, 2\)"):
        layer(np.zeros((4, 3, 2)))
    with pytest.raises(DTypeError, match="MinibatchStdDev.*uint8"):
        layer(np.zeros((4, 3), dtype=np.uint8))
    with pytest.raises(ShapeError, match="MinibatchStdDev.*empty batch"):
        layer(np.zeros((0, 3)))
    with pytest.raises(ShapeError, match=r"Sequential\[1\]: MinibatchStdDev"):
        mg.nn.Sequential(mg.nn.Tanh(), layer)(np.zeros((6, 3)))
    with pytest.raises(ShapeError, match="minibatch_stddev.*group_size=4.*got shape"):
        mg.functional.minibatch_stddev_forward(np.zeros((6, 3)), group_size=4)


@pytest.mark.parametrize("kwargs, message", [
    ({"group_size": 0}, "group_size must be a positive int, got 0"),
    ({"group_size": 2.0}, "group_size must be a positive int, got 2.0"),
    ({"eps": 0}, "eps must be > 0, got 0"),
    ({"eps": float("nan")}, "eps must be a finite number")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=f"MinibatchStdDev: {message}"):
        mg.nn.MinibatchStdDev(**kwargs)


@pytest.mark.torch
@given(batch=informative_batches(), seed=seeds)
@settings(max_examples=25)
def test_torch_parity(batch, seed):
    """The same formula in a few lines of torch autograd (NHWC kept, float64), on groups
    of 2 or more samples: y and dL/dx for a random upstream gradient agree to 1e-12
    relative."""
    torch = pytest.importorskip("torch")
    shape, g = batch
    g = g or shape[0]
    rng = np.random.default_rng(seed)
    x, gy = rng.standard_normal(shape), rng.standard_normal(shape[:-1] + (shape[-1] + 1,))
    tx = torch.tensor(x, requires_grad=True)
    groups = tx.reshape(shape[0] // g, g, -1)
    s = torch.sqrt(groups.var(dim=1, unbiased=False) + 1e-8).mean(dim=1)       # (G,)
    column = s.repeat_interleave(g).reshape((shape[0],) + (1,) * (len(shape) - 1))
    ty = torch.cat([tx, column.expand(shape[:-1] + (1,))], dim=-1)
    ty.backward(torch.tensor(gy))
    layer = mg.nn.MinibatchStdDev(group_size=g)
    for ours, theirs in ((layer(x), ty), (layer.backward(gy), tx.grad)):
        theirs = theirs.detach().numpy()
        assert np.abs(ours - theirs).max() <= 1e-12 * np.abs(theirs).max()
