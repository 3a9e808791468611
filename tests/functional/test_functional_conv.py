"""conv2d and conv_transpose2d in the functional core: forward against a naive loop
reference, forward and backward against the tap-by-tap reference beside the math
(``functional/conv_reference.py``), backward against central finite differences, the
adjoint identity that ties the two together, and the contract details (no mutation,
need_* flags, dtypes).

Everything runs in float64 on small hypothesis-drawn shapes: batch (incl. 1), non-square
images and kernels, per-axis strides, paddings (also wider than the kernel), output
paddings, kernels smaller than the stride, random upstream gradients.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minigan import backend
from minigan.functional.conv import conv2d_backward, conv2d_forward, conv_output_size
from minigan.functional.conv_reference import conv2d_reference
from minigan.functional.conv_transpose import (
    conv_transpose2d_backward,
    conv_transpose2d_forward,
    conv_transpose_output_size,
)
from minigan.gradcheck import numerical_gradient, roundoff_floor

FAST = settings(deadline=None, max_examples=40)
SLOW = settings(deadline=None, max_examples=25)  # per-element finite differences


# ---------------------------------------------------------------------------- strategies

@st.composite
def conv_configs(draw, transpose=False, max_hw=6):
    """A dict with arrays x, w, b (or None), gy and the geometry of one conv (transpose)."""
    n = draw(st.integers(1, 3))
    h, wd = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    has_bias = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if transpose:
        op = (draw(st.integers(0, stride[0] - 1)), draw(st.integers(0, stride[1] - 1)))
        oh = conv_transpose_output_size(h, kh, stride[0], padding[0], op[0])
        ow = conv_transpose_output_size(wd, kw, stride[1], padding[1], op[1])
        w_shape = (kh, kw, c_out, c_in)
    else:
        op = (0, 0)
        oh = conv_output_size(h, kh, stride[0], padding[0])
        ow = conv_output_size(wd, kw, stride[1], padding[1])
        w_shape = (kh, kw, c_in, c_out)
    assume(oh >= 1 and ow >= 1)
    return dict(x=rng.standard_normal((n, h, wd, c_in)), w=rng.standard_normal(w_shape),
                b=rng.standard_normal(c_out) if has_bias else None,
                gy=rng.standard_normal((n, oh, ow, c_out)), stride=stride, padding=padding,
                output_padding=op, rng=rng)


def run_forward(cfg, transpose, x=None, w=None, b=None):
    x = cfg["x"] if x is None else x
    w = cfg["w"] if w is None else w
    b = cfg["b"] if b is None else b
    if transpose:
        return conv_transpose2d_forward(x, w, b, cfg["stride"], cfg["padding"],
                                        cfg["output_padding"])
    return conv2d_forward(x, w, b, cfg["stride"], cfg["padding"])


def run_backward(cfg, transpose, **flags):
    y, cache = run_forward(cfg, transpose)
    backward = conv_transpose2d_backward if transpose else conv2d_backward
    return backward(cfg["gy"], cache, **flags)


# ---------------------------------------------------------------------------- references

def naive_conv2d(x, w, b, stride, padding):
    """Definition, one output pixel at a time: y[:, i, j] = sum window * w."""
    (sh, sw), (ph, pw) = stride, padding
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    xp = np.zeros((n, h + 2 * ph, wd + 2 * pw, c_in))
    xp[:, ph:ph + h, pw:pw + wd] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, oh, ow, c_out))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]   # (N, KH, KW, C_in)
            y[:, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [0, 1, 2]))
    return y if b is None else y + b


def naive_conv_transpose2d(x, w, b, stride, padding, output_padding):
    """Definition, one input pixel at a time: each x[:, i, j] paints w onto the output."""
    (sh, sw), (ph, pw), (oph, opw) = stride, padding, output_padding
    n, h, wd, _ = x.shape
    kh, kw, c_out, _ = w.shape
    full = np.zeros((n, (h - 1) * sh + kh + oph, (wd - 1) * sw + kw + opw, c_out))
    for i in range(h):
        for j in range(wd):
            full[:, i * sh:i * sh + kh, j * sw:j * sw + kw] += np.tensordot(
                x[:, i, j], w, axes=([1], [3]))                        # (N, KH, KW, C_out)
    oh, ow = full.shape[1] - 2 * ph, full.shape[2] - 2 * pw
    y = full[:, ph:ph + oh, pw:pw + ow]
    return y if b is None else y + b


def rel_err(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


# ---------------------------------------------------------------------------- the tap loop

@FAST
@given(conv_configs())
def test_conv2d_and_its_gradients_match_the_tap_by_tap_reference(cfg):
    """im2col @ W, im2col^T gy and col2im(gy W^T) give what the loop over the kernel's
    taps of the window view gives: y, dx, dW, db (float64)."""
    y, gx, gw, gb = conv2d_reference(cfg["x"], cfg["w"], cfg["b"], cfg["gy"], cfg["stride"],
                                     cfg["padding"])
    y_fast, cache = run_forward(cfg, transpose=False)
    gx_fast, gw_fast, gb_fast = conv2d_backward(cfg["gy"], cache)
    for fast, ref in ((y_fast, y), (gx_fast, gx), (gw_fast, gw)):
        assert fast.shape == ref.shape and rel_err(fast, ref) < 1e-12
    assert (gb is None) == (gb_fast is None)
    if gb is not None:
        assert rel_err(gb_fast, gb) < 1e-12


@FAST
@given(conv_configs(transpose=True))
def test_conv_transpose2d_is_the_tap_by_tap_input_gradient(cfg):
    """A transposed convolution is the reference's dx of the convolution with the same
    weight, for the input size the output_padding picks."""
    y_fast, _ = run_forward(cfg, transpose=True)
    n, oh, ow, c_out = y_fast.shape
    probe = np.zeros((n, oh, ow, c_out))            # any x of the conv's input size
    _, dx, _, _ = conv2d_reference(probe, cfg["w"], None, cfg["x"], cfg["stride"],
                                   cfg["padding"])
    expected = dx if cfg["b"] is None else dx + cfg["b"]
    assert rel_err(y_fast, expected) < 1e-12


# ---------------------------------------------------------------------------- forward

@FAST
@given(conv_configs())
def test_conv2d_forward_matches_naive_loops(cfg):
    y, _ = run_forward(cfg, False)
    ref = naive_conv2d(cfg["x"], cfg["w"], cfg["b"], cfg["stride"], cfg["padding"])
    assert y.shape == ref.shape and y.dtype == np.float64
    assert rel_err(y, ref) < 1e-12


@FAST
@given(conv_configs(transpose=True))
def test_conv_transpose2d_forward_matches_naive_loops(cfg):
    y, _ = run_forward(cfg, True)
    ref = naive_conv_transpose2d(cfg["x"], cfg["w"], cfg["b"], cfg["stride"], cfg["padding"],
                                 cfg["output_padding"])
    assert y.shape == ref.shape and y.dtype == np.float64
    assert rel_err(y, ref) < 1e-12


@pytest.mark.parametrize("hw, k, s, p, op", [
    ((1, 1), (1, 1), (1, 1), (0, 0), (0, 0)),    # smallest
    ((5, 3), (1, 2), (3, 3), (0, 0), (2, 1)),    # kernel < stride: phases without taps
    ((6, 5), (2, 3), (2, 1), (3, 3), (1, 0)),    # padding > kernel - 1
    ((7, 7), (5, 5), (2, 2), (2, 2), (1, 1)),    # the DCGAN layers
])
def test_edge_geometries_match_naive(hw, k, s, p, op):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, *hw, 3))
    w = rng.standard_normal((*k, 3, 2))
    if min(conv_output_size(a, b, c, d) for a, b, c, d in zip(hw, k, s, p)) >= 1:
        assert rel_err(conv2d_forward(x, w, None, s, p)[0], naive_conv2d(x, w, None, s, p)) < 1e-12
    wt = rng.standard_normal((*k, 2, 3))
    yt = conv_transpose2d_forward(x, wt, None, s, p, op)[0]
    assert rel_err(yt, naive_conv_transpose2d(x, wt, None, s, p, op)) < 1e-12


def test_dcgan_shapes():
    x = np.zeros((2, 28, 28, 1))
    y, _ = conv2d_forward(x, np.zeros((5, 5, 1, 64)), np.zeros(64), stride=2, padding=2)
    assert y.shape == (2, 14, 14, 64)
    z = np.zeros((2, 7, 7, 128))
    y, _ = conv_transpose2d_forward(z, np.zeros((5, 5, 64, 128)), None, 2, 2, 1)
    assert y.shape == (2, 14, 14, 64)


# ---------------------------------------------------------------------------- gradients

def check_grads_by_finite_differences(cfg, transpose):
    gx, gw, gb = run_backward(cfg, transpose)
    x, w, b, gy = cfg["x"], cfg["w"], cfg["b"], cfg["gy"]

    def loss():  # L = sum(y * gy): its gradient is backward(gy)
        return float((run_forward(cfg, transpose)[0] * gy).sum())

    assert rel_err(gx, numerical_gradient(loss, x)) < 1e-6
    assert rel_err(gw, numerical_gradient(loss, w)) < 1e-6
    if b is None:
        assert gb is None
    else:
        assert rel_err(gb, numerical_gradient(loss, b)) < 1e-6


@SLOW
@given(conv_configs())
def test_conv2d_gradients_match_finite_differences(cfg):
    check_grads_by_finite_differences(cfg, False)


@SLOW
@given(conv_configs(transpose=True))
def test_conv_transpose2d_gradients_match_finite_differences(cfg):
    check_grads_by_finite_differences(cfg, True)


@SLOW
@pytest.mark.parametrize("transpose", [False, True])
@given(data=st.data())
def test_directional_derivatives_on_larger_shapes(transpose, data):
    cfg = data.draw(conv_configs(transpose=transpose, max_hw=14))
    grads = run_backward(cfg, transpose)
    eps = 1e-6
    for name, grad in zip(("x", "w", "b"), grads):
        if cfg[name] is None:
            continue
        d = cfg["rng"].standard_normal(cfg[name].shape)
        up = run_forward(cfg, transpose, **{name: cfg[name] + eps * d})[0]
        down = run_forward(cfg, transpose, **{name: cfg[name] - eps * d})[0]
        numeric = ((up - down) * cfg["gy"]).sum() / (2 * eps)
        analytic = (grad * d).sum()
        scale = np.abs(grad).sum() * np.abs(d).max()
        # the layer is linear in each argument, so the central difference has no
        # truncation error, only round-off: sum|y * gy| * ulp / eps (gradcheck's model),
        # which exceeds 1e-7 * scale when the directional derivative is small next to y
        floor = roundoff_floor(up, cfg["gy"], eps)
        assert abs(numeric - analytic) <= 1e-7 * scale + floor


# ---------------------------------------------------------------------------- adjointness

@FAST
@given(conv_configs())
def test_adjoint_identity_and_transpose_equals_input_gradient(cfg):
    x, w, g, (s, p) = cfg["x"], cfg["w"], cfg["gy"], (cfg["stride"], cfg["padding"])
    # the output_padding that maps g back to x's size
    op = tuple((x.shape[i + 1] + 2 * p[i] - w.shape[i]) % s[i] for i in range(2))
    y, cache = conv2d_forward(x, w, None, s, p)
    xt, _ = conv_transpose2d_forward(g, w, None, s, p, op)
    assert xt.shape == x.shape
    lhs, rhs = (y * g).sum(), (x * xt).sum()
    assert abs(lhs - rhs) <= 1e-10 * max(np.abs(y * g).sum(), 1e-300)
    gx, _, _ = conv2d_backward(g, cache)
    assert np.array_equal(xt, gx)                 # one routine serves both
    # and the other way round: ConvTranspose2d's input gradient is Conv2d's forward
    _, tcache = conv_transpose2d_forward(g, w, None, s, p, op)
    gg, _, _ = conv_transpose2d_backward(x, tcache)
    assert rel_err(gg, y) < 1e-12


# ---------------------------------------------------------------------------- contract

@FAST
@pytest.mark.parametrize("transpose", [False, True])
@given(data=st.data())
def test_backward_does_not_mutate_and_honours_flags(transpose, data):
    cfg = data.draw(conv_configs(transpose=transpose))
    x0, gy0 = cfg["x"].copy(), cfg["gy"].copy()
    gx, gw, gb = run_backward(cfg, transpose)
    assert np.array_equal(cfg["gy"], gy0) and np.array_equal(cfg["x"], x0)
    assert gx.shape == cfg["x"].shape and gw.shape == cfg["w"].shape
    assert (gb is None) == (cfg["b"] is None)

    only_params = run_backward(cfg, transpose, need_input_grad=False)
    assert only_params[0] is None
    assert np.array_equal(only_params[1], gw)
    assert (only_params[2] is None and gb is None) or np.array_equal(only_params[2], gb)

    only_input = run_backward(cfg, transpose, need_param_grads=False)
    assert only_input[1] is None and only_input[2] is None
    assert np.array_equal(only_input[0], gx)

    assert run_backward(cfg, transpose, need_input_grad=False, need_param_grads=False) == (
        None, None, None)
    assert np.array_equal(cfg["gy"], gy0)


@pytest.mark.parametrize("transpose", [False, True])
def test_float32_stays_float32(transpose):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    if transpose:
        w = rng.standard_normal((5, 4, 4, 3)).astype(np.float32)
        y, cache = conv_transpose2d_forward(x, w, np.ones(4, np.float32), 2, 2, 1)
        ref = naive_conv_transpose2d(x.astype(np.float64), w.astype(np.float64), 1.0,
                                     (2, 2), (2, 2), (1, 1))
        grads = conv_transpose2d_backward(rng.standard_normal(y.shape).astype(np.float32), cache)
    else:
        w = rng.standard_normal((5, 4, 3, 4)).astype(np.float32)
        y, cache = conv2d_forward(x, w, np.ones(4, np.float32), 2, 2)
        ref = naive_conv2d(x.astype(np.float64), w.astype(np.float64), 1.0, (2, 2), (2, 2))
        grads = conv2d_backward(rng.standard_normal(y.shape).astype(np.float32), cache)
    assert y.dtype == np.float32 and rel_err(y, ref) < 1e-5
    assert all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize("transpose", [False, True])
def test_strict_backend_gives_the_numpy_results(transpose):
    """No host round-trips: the same numbers on an array type that refuses np.asarray."""
    strict_backend = pytest.importorskip("strict_backend")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 5, 3))
    w = rng.standard_normal((3, 4, 3, 2) if not transpose else (3, 4, 2, 3))
    b = rng.standard_normal(2)
    forward = conv_transpose2d_forward if transpose else conv2d_forward
    backward = conv_transpose2d_backward if transpose else conv2d_backward
    args = ((2, 3), (1, 2)) + (((1, 0),) if transpose else ())
    y, cache = forward(x, w, b, *args)
    gy = rng.standard_normal(y.shape)
    expected = (y,) + backward(gy, cache)

    strict_backend.activate()
    dev = [backend.to_device(a) for a in (x, w, b, gy)]
    y_d, cache_d = forward(*dev[:3], *args)
    got = (y_d,) + backward(dev[3], cache_d)
    for e, g in zip(expected, got):
        assert rel_err(backend.to_numpy(g), e) < 1e-12
