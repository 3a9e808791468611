"""LayerNorm (Ba et al. 2016): its backward against finite differences on hypothesis-drawn
shapes (float64, random upstream gradient, NumPy and the strict backend), its forward and
gradients against PyTorch's layer_norm (1e-8), and its argument checks."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, DTypeError, ShapeError
from minigan.gradcheck import check_module

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)


@st.composite
def layer_norm_cases(draw):
    """(leading axes, normalized_shape, affine): 1-2 leading axes, 1-3 trailing ones."""
    leading = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    trailing = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    return leading, trailing, draw(st.booleans())


def randomised(layer, seed):
    """Non-trivial gamma and beta, so that no term of the backward hides."""
    if layer.weight is not None:
        rng = mg.backend.default_rng(seed)
        layer.weight.data[...] = rng.standard_normal(layer.weight.shape) + 1.5
        layer.bias.data[...] = rng.standard_normal(layer.bias.shape)
    return layer


@given(case=layer_norm_cases(), seed=seeds)
@settings(max_examples=30)
def test_backward_matches_finite_differences(array_backend, case, seed):
    leading, trailing, affine = case
    # one value per group has variance 0: xhat = 0 whatever x, and the gradient is
    # ~1/sqrt(eps); it is still a smooth function, so it is checked as well
    layer = randomised(mg.nn.LayerNorm(trailing, elementwise_affine=affine, dtype="float64"),
                       seed)
    x = mg.backend.default_rng(seed + 1).standard_normal(leading + trailing) * 2 + 0.5
    errors = check_module(layer, x)
    assert [e.name for e in errors] == ["input"] + (["weight", "bias"] if affine else [])
    for error in errors:
        assert error.within(TOLERANCE), error


def test_each_group_is_normalised_on_its_own():
    """Mean 0 and biased variance 1 per sample over (H, W, C), whatever the other samples."""
    x = np.random.default_rng(0).standard_normal((3, 4, 5, 2)) * [[[[1.0, 3.0]]]] + 7
    layer = mg.nn.LayerNorm((4, 5, 2), eps=1e-12, dtype="float64")
    y = layer(x)
    np.testing.assert_allclose(y.reshape(3, -1).mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.reshape(3, -1).var(axis=1), 1, rtol=1e-9)
    np.testing.assert_allclose(layer(x[1:2])[0], y[1], rtol=1e-12)   # no batch statistics


def test_a_group_of_one_value_normalises_to_zero_and_passes_no_gradient():
    """M = 1: xhat = 0 whatever x is, so y = beta and dL/dx = 0 exactly."""
    layer = randomised(mg.nn.LayerNorm(1, dtype="float64"), 3)
    x = np.random.default_rng(0).standard_normal((4, 1))
    np.testing.assert_array_equal(layer(x), np.broadcast_to(layer.bias.data, (4, 1)))
    np.testing.assert_array_equal(layer.backward(np.random.default_rng(1).standard_normal((4, 1))),
                                  0)


@pytest.mark.torch
@given(case=layer_norm_cases(), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=30)
def test_matches_pytorch(case, seed):
    torch = pytest.importorskip("torch")
    leading, trailing, affine = case
    # groups of one value: the input gradient is 0 (test below), torch's is round-off
    assume(np.prod(trailing) >= 2)
    rng = np.random.default_rng(seed)
    layer = mg.nn.LayerNorm(trailing, eps=1e-5, elementwise_affine=affine, dtype="float64")
    if affine:
        layer.weight.data[...] = rng.standard_normal(trailing) + 1
        layer.bias.data[...] = rng.standard_normal(trailing)
    x, gy = rng.standard_normal(leading + trailing), rng.standard_normal(leading + trailing)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(layer.weight.data, requires_grad=True) if affine else None
    tb = torch.tensor(layer.bias.data, requires_grad=True) if affine else None
    ty = torch.nn.functional.layer_norm(tx, trailing, tw, tb, eps=1e-5)
    ty.backward(torch.tensor(gy))
    pairs = [(layer(x), ty), (layer.backward(gy), tx.grad)]
    if affine:
        pairs += [(layer.weight.grad, tw.grad), (layer.bias.grad, tb.grad)]
    for ours, theirs in pairs:
        theirs = theirs.detach().numpy()
        assert np.abs(ours - theirs).max() <= 1e-8 * max(np.abs(theirs).max(), 1e-300)


def test_float32_in_float32_out_and_the_state_dict_keys():
    layer = mg.nn.LayerNorm(6)
    y = layer(np.ones((2, 6), dtype="float32") * np.arange(6, dtype="float32"))
    assert y.dtype == np.float32
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    assert mg.nn.LayerNorm(6, elementwise_affine=False).state_dict() == {}


def test_the_cpu_engine_in_blocks_gives_the_reference_engines_numbers():
    """Above 2 * 65,536 values the CPU engine runs the elementwise rules in blocks of
    rows; here the rows are those of the transposed (M, L) view."""
    rng = np.random.default_rng(0)
    shape = (8, 7, 7, 400)                                # 156,800 values
    x, gy, v = (rng.standard_normal(shape) for _ in range(3))
    gamma, beta = rng.standard_normal(shape[1:]), rng.standard_normal(shape[1:])
    F = mg.functional

    def everything():
        y, cache = F.layer_norm_forward(x, gamma, beta, shape[1:])
        return (y, *F.layer_norm_backward(gy, cache), *F.layer_norm_double_backward(v, gy, cache))

    with mg.engine.using("reference"):
        expected = everything()
    with mg.engine.using("cpu"):
        got = everything()
    for ours, reference in zip(got, expected):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make, error, message", [
    (lambda: mg.nn.LayerNorm(0), ConfigError, r"LayerNorm: normalized_shape must be"),
    (lambda: mg.nn.LayerNorm((3, -1)), ConfigError, r"normalized_shape must be"),
    (lambda: mg.nn.LayerNorm(()), ConfigError, r"normalized_shape must be"),
    (lambda: mg.nn.LayerNorm(3, eps=0), ConfigError, r"LayerNorm: eps must be > 0"),
    (lambda: mg.nn.LayerNorm(3, elementwise_affine=1), ConfigError, r"True or False"),
    (lambda: mg.nn.LayerNorm(3)(np.ones((2, 4), "float32")), ShapeError,
     r"LayerNorm\(\(3,\).*expected an input \(\.\.\., 3\).*got shape \(2, 4\)"),
    (lambda: mg.nn.LayerNorm((2, 3))(np.ones((2, 3), "float32")), ShapeError,
     r"at least one batch axis"),
    (lambda: mg.nn.LayerNorm(3)(np.ones((2, 3), "float64")), DTypeError,
     r"input dtype float64 does not match the layer's parameter dtype float32"),
])
def test_bad_arguments_are_refused_with_the_layer_named(make, error, message):
    with pytest.raises(error, match=message):
        make()
