"""conv2d / conv_transpose2d against PyTorch (float64): forward and all three gradients.

Layout conversions: torch images are NCHW, ours NHWC; torch's conv weight is
(C_out, C_in, KH, KW), ours (KH, KW, C_in, C_out); torch's conv_transpose weight is
(C_in, C_out, KH, KW), ours (KH, KW, C_out, C_in).  Both transposes are (3, 2, 0, 1).
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minigan.functional.conv import conv2d_backward, conv2d_forward, conv_output_size
from minigan.functional.conv_transpose import (
    conv_transpose2d_backward,
    conv_transpose2d_forward,
    conv_transpose_output_size,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional

PARITY = settings(deadline=None, max_examples=50)


def to_torch_image(a):          # (N, H, W, C) -> (N, C, H, W)
    return torch.tensor(a.transpose(0, 3, 1, 2).copy(), requires_grad=True)


def from_torch_image(t):        # (N, C, H, W) -> (N, H, W, C)
    return t.detach().numpy().transpose(0, 2, 3, 1)


def to_torch_weight(w):         # (KH, KW, A, B) -> (B, A, KH, KW), both ops
    return torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)


def from_torch_weight(t):
    return t.detach().numpy().transpose(2, 3, 1, 0)


def rel_err(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@st.composite
def geometries(draw, transpose):
    n, c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    k = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    op = (draw(st.integers(0, s[0] - 1)), draw(st.integers(0, s[1] - 1))) if transpose else (0, 0)
    if transpose:
        out = [conv_transpose_output_size(i, k_, s_, p_, o) for i, k_, s_, p_, o
               in zip((h, w), k, s, p, op)]
    else:
        out = [conv_output_size(i, k_, s_, p_) for i, k_, s_, p_ in zip((h, w), k, s, p)]
    assume(min(out) >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w_shape = (*k, c_out, c_in) if transpose else (*k, c_in, c_out)
    return dict(x=rng.standard_normal((n, h, w, c_in)), w=rng.standard_normal(w_shape),
                b=rng.standard_normal(c_out) if draw(st.booleans()) else None,
                gy=rng.standard_normal((n, *out, c_out)), s=s, p=p, op=op)


def compare(ours, theirs, x_t, w_t, b_t, g):
    y, (gx, gw, gb) = ours
    assert rel_err(y, from_torch_image(theirs)) < 1e-8
    theirs.backward(torch.tensor(g["gy"].transpose(0, 3, 1, 2).copy()))
    assert rel_err(gx, from_torch_image(x_t.grad)) < 1e-8
    assert rel_err(gw, from_torch_weight(w_t.grad)) < 1e-8
    if b_t is None:
        assert gb is None
    else:
        assert rel_err(gb, b_t.grad.numpy()) < 1e-8


def torch_bias(b):
    return None if b is None else torch.tensor(b, requires_grad=True)


@PARITY
@given(geometries(transpose=False))
def test_conv2d_matches_torch(g):
    y, cache = conv2d_forward(g["x"], g["w"], g["b"], g["s"], g["p"])
    grads = conv2d_backward(g["gy"], cache)
    x_t, w_t, b_t = to_torch_image(g["x"]), to_torch_weight(g["w"]), torch_bias(g["b"])
    compare((y, grads), F.conv2d(x_t, w_t, b_t, stride=g["s"], padding=g["p"]), x_t, w_t, b_t, g)


@PARITY
@given(geometries(transpose=True))
def test_conv_transpose2d_matches_torch(g):
    y, cache = conv_transpose2d_forward(g["x"], g["w"], g["b"], g["s"], g["p"], g["op"])
    grads = conv_transpose2d_backward(g["gy"], cache)
    x_t, w_t, b_t = to_torch_image(g["x"]), to_torch_weight(g["w"]), torch_bias(g["b"])
    theirs = F.conv_transpose2d(x_t, w_t, b_t, stride=g["s"], padding=g["p"],
                                output_padding=g["op"])
    compare((y, grads), theirs, x_t, w_t, b_t, g)


def test_dcgan_layers_match_torch():
    """The seed DCGAN's 5x5 stride-2 layers, batch 2, float64."""
    rng = np.random.default_rng(0)
    for transpose, x_shape, w_shape in [(False, (2, 14, 14, 8), (5, 5, 8, 16)),
                                        (True, (2, 7, 7, 16), (5, 5, 8, 16))]:
        g = dict(x=rng.standard_normal(x_shape), w=rng.standard_normal(w_shape),
                 b=rng.standard_normal(w_shape[2] if transpose else w_shape[3]))
        x_t, w_t, b_t = to_torch_image(g["x"]), to_torch_weight(g["w"]), torch_bias(g["b"])
        if transpose:
            y, cache = conv_transpose2d_forward(g["x"], g["w"], g["b"], 2, 2, 1)
            theirs = F.conv_transpose2d(x_t, w_t, b_t, stride=2, padding=2, output_padding=1)
            backward = conv_transpose2d_backward
        else:
            y, cache = conv2d_forward(g["x"], g["w"], g["b"], 2, 2)
            theirs = F.conv2d(x_t, w_t, b_t, stride=2, padding=2)
            backward = conv2d_backward
        g["gy"] = rng.standard_normal(y.shape)
        compare((y, backward(g["gy"], cache)), theirs, x_t, w_t, b_t, g)
