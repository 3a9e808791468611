"""EqualizedLR: a Dense or Conv2d computing with c * W, c = gain / sqrt(fan_in) (Karras et
al. 2018). Its backward against finite differences (float64, random upstream gradient,
drawn shapes, batch 1 included; NumPy and the strict backend), the forward as the layer
with the scaled weight, dL/dW = c dL/dW_used accumulated, the initialisation, the frozen
path, why it equalises Adam's steps, and its errors. PyTorch parity:
tests/parity/test_torch_parity_progressive.py."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError
from minigan.gradcheck import check_module

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)


@given(n=st.integers(1, 3), fan=st.tuples(st.integers(1, 5), st.integers(1, 4)),
       conv=st.booleans(), gain=st.floats(0.5, 2.0), seed=seeds)
def test_equalized_lr_matches_finite_differences(array_backend, n, fan, conv, gain, seed):
    rng = mg.backend.default_rng(seed)
    c_in, c_out = fan
    layer = (mg.nn.Conv2d(c_in, c_out, 3, padding=1, dtype="float64", rng=rng) if conv
             else mg.nn.Dense(c_in, c_out, dtype="float64", rng=rng))
    wrapped = mg.nn.EqualizedLR(layer, gain, rng=rng)
    layer.bias.data[...] = rng.standard_normal(c_out)
    x = mg.backend.default_rng(seed + 1).standard_normal((n, 3, 2, c_in) if conv else (n, c_in))
    errors = check_module(wrapped, x)
    assert [e.name for e in errors] == ["input", "layer.weight", "layer.bias"]
    for error in errors:
        assert error.within(TOLERANCE), error
    # count only draws that compared real gradients: with one input and one output the
    # input gradient is a single product c w gy, which a draw can make ~1e-4
    assume(min(error.scale for error in errors) > 1e-3)


def test_forward_and_backward_are_the_layer_s_with_the_scaled_weight():
    rng = np.random.default_rng(0)
    wrapped = mg.nn.EqualizedLR(mg.nn.Conv2d(3, 4, 3, dtype="float64"), gain=1.3)
    c = 1.3 / math.sqrt(3 * 3 * 3)
    assert wrapped.scale == pytest.approx(c, rel=1e-15)
    plain = mg.nn.Conv2d(3, 4, 3, dtype="float64")
    plain.weight.data[...] = c * wrapped.layer.weight.data
    x, gy = rng.standard_normal((2, 5, 5, 3)), rng.standard_normal((2, 3, 3, 4))
    np.testing.assert_allclose(wrapped(x), plain(x), rtol=1e-14)
    np.testing.assert_allclose(wrapped.backward(gy), plain.backward(gy), rtol=1e-13)
    np.testing.assert_allclose(wrapped.layer.weight.grad, c * plain.weight.grad, rtol=1e-13)
    wrapped(x)
    wrapped.backward(gy)                               # gradients add up, as every layer's
    np.testing.assert_allclose(wrapped.layer.weight.grad, 2 * c * plain.weight.grad,
                               rtol=1e-13)
    np.testing.assert_array_equal(wrapped.layer.weight.data, plain.weight.data / c)  # W kept


def test_initialisation_is_a_unit_normal_weight_and_a_zero_bias():
    layer = mg.nn.EqualizedLR(mg.nn.Dense(400, 300), rng=mg.backend.default_rng(0))
    w = layer.layer.weight.data
    assert abs(float(w.std()) - 1) < 0.01 and abs(float(w.mean())) < 0.01
    assert not layer.layer.bias.data.any() and w.dtype == np.float32
    assert list(layer.state_dict()) == ["layer.weight", "layer.bias"]


@pytest.mark.parametrize("equalized", [True, False])
def test_equalized_weights_move_in_proportion_to_their_scale(equalized):
    """Adam's first step moves every weight by lr (its bias-corrected step is
    lr * g / |g|). With EqualizedLR the weight used moves by c * lr -- the same fraction
    of its own scale c for a fan-in of 4 and of 4096; a plain He-initialised layer moves
    by lr whatever its scale, so its large-fan-in weights change relatively 32 times
    faster."""
    lr, changes = 1e-3, {}
    for fan in (4, 4096):
        rng = mg.backend.default_rng(fan)
        dense = mg.nn.Dense(fan, 8, dtype="float64", rng=rng)
        layer = mg.nn.EqualizedLR(dense, rng=rng) if equalized else dense
        c = math.sqrt(2 / fan)
        if not equalized:
            dense.weight.data[...] = c * rng.standard_normal(dense.weight.shape)
        used = (lambda: c * dense.weight.data) if equalized else (lambda: dense.weight.data.copy())
        before = used()
        optimizer = mg.optim.Adam(layer.parameters(), lr=lr, betas=(0.5, 0.999), eps=0)
        layer(np.random.default_rng(1).standard_normal((16, fan)))
        layer.backward(np.ones((16, 8)))
        optimizer.step()
        changes[fan] = np.abs(used() - before) / c     # in units of the weight's own scale
    if equalized:
        for relative in changes.values():
            np.testing.assert_allclose(relative, lr, rtol=1e-9)
    else:
        np.testing.assert_allclose(changes[4096].mean() / changes[4].mean(), 32, rtol=1e-9)


def test_frozen_layer_gives_input_gradients_only():
    wrapped = mg.nn.EqualizedLR(mg.nn.Dense(3, 2, dtype="float64"))
    wrapped.freeze()
    x = np.ones((2, 3))
    wrapped(x)
    gx = wrapped.backward(np.ones((2, 2)))
    assert gx.shape == (2, 3) and not wrapped.layer.weight.grad.any()
    assert wrapped.layer.bias.grad.any() is np.False_      # frozen: no bias gradient either
    wrapped(x)
    assert wrapped.backward(np.ones((2, 2)), need_input_grad=False) is None


def test_errors():
    with pytest.raises(ConfigError, match="EqualizedLR: expected a Dense or Conv2d layer to "
                                          "wrap, got Tanh"):
        mg.nn.EqualizedLR(mg.nn.Tanh())
    with pytest.raises(ConfigError, match="EqualizedLR: gain must be > 0, got 0"):
        mg.nn.EqualizedLR(mg.nn.Dense(2, 2), gain=0)
    wrapped = mg.nn.EqualizedLR(mg.nn.Dense(3, 2))
    with pytest.raises(mg.errors.StateError, match="without a preceding forward"):
        wrapped.backward(np.ones((1, 2), dtype="float32"))
    with pytest.raises(mg.errors.ShapeError, match=r"EqualizedLR: Dense\(3, 2, bias=True\): "
                                                   r"expected 3 channels"):
        wrapped(np.ones((1, 4), dtype="float32"))
