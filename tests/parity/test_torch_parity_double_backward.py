"""Every layer's double backward against PyTorch's second-order autograd (float64).

PyTorch computes gx = autograd.grad(y, x, gy, create_graph=True) -- the backward as a
differentiable graph -- and then the gradients of <gx, v> with respect to gy, x and the
parameters: what minigan's ``*_double_backward(v, gy, cache)`` returns by hand. Layouts
are converted inside torch's graph (NHWC <-> NCHW, our weight layouts <-> torch's) so the
leaves have our shapes. A derivative torch reports unused (None) must be None or 0 here
too; the others agree to a relative error below 1e-8.
"""

import numpy as np
import pytest
from conv_geometry import conv_geometry
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minigan import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.torch

TOL = 1e-8
seeds = st.integers(0, 2**32 - 1)


def leaf(a):
    return torch.tensor(np.ascontiguousarray(a), requires_grad=True)


def nchw(t):   # contiguous: torch's slow_conv2d double backward asks for it
    return t.permute(0, 3, 1, 2).contiguous()


def nhwc(t):
    return t.permute(0, 2, 3, 1)


def torch_second_order(forward, x, gy, v, params):
    """d<gx, v>/d(gy, x, *params) with gx = the input gradient of forward(x, *params)."""
    tx, tgy, tparams = leaf(x), leaf(gy), [leaf(p) for p in params]
    y = forward(tx, *tparams)
    (gx,) = torch.autograd.grad(y, tx, tgy, create_graph=True)
    return torch.autograd.grad((gx * torch.tensor(v)).sum(), [tgy, tx, *tparams],
                               allow_unused=True)


def assert_matches(ours, theirs, what):
    if theirs is None or not theirs.detach().abs().max() > 0:
        assert ours is None or not np.abs(ours).max() > 0, f"{what}: torch has 0, ours not"
        return
    theirs = theirs.detach().numpy()
    assert ours is not None and ours.shape == theirs.shape, what
    error = np.abs(ours - theirs).max() / np.abs(theirs).max()
    assert error < TOL, f"{what}: relative error {error:.3e}"


def draw_arrays(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


@given(n=st.integers(1, 5), fan_in=st.integers(1, 8), fan_out=st.integers(1, 8), seed=seeds)
@settings(max_examples=20)
def test_dense(n, fan_in, fan_out, seed):
    x, w, b, gy, v = draw_arrays(seed, (n, fan_in), (fan_in, fan_out), (fan_out,),
                                 (n, fan_out), (n, fan_in))
    ggy, gw = F.dense_double_backward(v, gy, F.dense_forward(x, w, b)[1])
    t_gy, t_x, t_w, t_b = torch_second_order(lambda x, w, b: TF.linear(x, w.T, b), x, gy, v,
                                             [w, b])
    for ours, theirs, what in [(ggy, t_gy, "gy"), (None, t_x, "x"), (gw, t_w, "W"),
                               (None, t_b, "b")]:
        assert_matches(ours, theirs, f"Dense d/d{what}")


@st.composite
def conv_cases(draw, transpose):
    geometry = draw(conv_geometry(transpose, max_kernel=5, max_size=8))
    return dict(n=draw(st.integers(1, 3)), c_in=draw(st.integers(1, 4)),
                c_out=draw(st.integers(1, 4)), **geometry, seed=draw(seeds))


@given(c=conv_cases(transpose=False))
@settings(max_examples=20)
def test_conv2d(c):
    x, w, b, gy, v = draw_arrays(c["seed"], (c["n"], *c["hw"], c["c_in"]),
                                 (*c["k"], c["c_in"], c["c_out"]), (c["c_out"],),
                                 (c["n"], *c["out"], c["c_out"]), (c["n"], *c["hw"], c["c_in"]))
    ggy, gw = F.conv2d_double_backward(v, gy, F.conv2d_forward(x, w, b, c["s"], c["p"])[1])

    def forward(x, w, b):
        return nhwc(TF.conv2d(nchw(x), w.permute(3, 2, 0, 1).contiguous(), b, stride=c["s"],
                              padding=c["p"]))

    t_gy, t_x, t_w, t_b = torch_second_order(forward, x, gy, v, [w, b])
    for ours, theirs, what in [(ggy, t_gy, "gy"), (None, t_x, "x"), (gw, t_w, "W"),
                               (None, t_b, "b")]:
        assert_matches(ours, theirs, f"Conv2d d/d{what}")


@given(c=conv_cases(transpose=True))
@settings(max_examples=20)
def test_conv_transpose2d(c):
    x, w, b, gy, v = draw_arrays(c["seed"], (c["n"], *c["hw"], c["c_in"]),
                                 (*c["k"], c["c_out"], c["c_in"]), (c["c_out"],),
                                 (c["n"], *c["out"], c["c_out"]), (c["n"], *c["hw"], c["c_in"]))
    cache = F.conv_transpose2d_forward(x, w, b, c["s"], c["p"], c["op"])[1]
    ggy, gw = F.conv_transpose2d_double_backward(v, gy, cache)

    def forward(x, w, b):
        return nhwc(TF.conv_transpose2d(nchw(x), w.permute(3, 2, 0, 1).contiguous(), b,
                                        stride=c["s"], padding=c["p"], output_padding=c["op"]))

    t_gy, t_x, t_w, t_b = torch_second_order(forward, x, gy, v, [w, b])
    for ours, theirs, what in [(ggy, t_gy, "gy"), (None, t_x, "x"), (gw, t_w, "W"),
                               (None, t_b, "b")]:
        assert_matches(ours, theirs, f"ConvTranspose2d d/d{what}")


ACTIVATIONS = {
    "relu": (F.relu_forward, F.relu_double_backward, TF.relu),
    "leaky_relu": (lambda x: F.leaky_relu_forward(x, 0.2), F.leaky_relu_double_backward,
                   lambda x: TF.leaky_relu(x, 0.2)),
    "leaky_relu_steep": (lambda x: F.leaky_relu_forward(x, 1.7), F.leaky_relu_double_backward,
                         lambda x: TF.leaky_relu(x, 1.7)),
    "tanh": (F.tanh_forward, F.tanh_double_backward, torch.tanh),
    "sigmoid": (F.sigmoid_forward, F.sigmoid_double_backward, torch.sigmoid),
}


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       name=st.sampled_from(sorted(ACTIVATIONS)), seed=seeds)
@settings(max_examples=30)
def test_activations(shape, name, seed):
    forward, double_backward, torch_forward = ACTIVATIONS[name]
    x, gy, v = draw_arrays(seed, *[tuple(shape)] * 3)
    x = np.sign(x + (x == 0)) * (np.abs(x) * 2 + 1e-3)           # off the ReLU kink
    ggy, gx = double_backward(v, gy, forward(x)[1])
    t_gy, t_x = torch_second_order(torch_forward, x, gy, v, [])
    assert_matches(ggy, t_gy, f"{name} d/dgy")
    assert_matches(gx, t_x, f"{name} d/dx")


@given(leading=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       trailing=st.lists(st.integers(1, 4), min_size=1, max_size=3), seed=seeds)
@settings(max_examples=25)
def test_layer_norm(leading, trailing, seed):
    leading, trailing = tuple(leading), tuple(trailing)
    assume(np.prod(trailing) >= 3)   # 1 or 2 values per group: derivatives of round-off size
    x, gamma, beta, gy, v = draw_arrays(seed, leading + trailing, trailing, trailing,
                                        leading + trailing, leading + trailing)
    gamma += 1
    cache = F.layer_norm_forward(x, gamma, beta, trailing)[1]
    ggy, gx, ggamma = F.layer_norm_double_backward(v, gy, cache)
    t_gy, t_x, t_gamma, t_beta = torch_second_order(
        lambda x, g, b: TF.layer_norm(x, trailing, g, b, eps=1e-5), x, gy, v, [gamma, beta])
    for ours, theirs, what in [(ggy, t_gy, "gy"), (gx, t_x, "x"), (ggamma, t_gamma, "gamma"),
                               (None, t_beta, "beta")]:
        assert_matches(ours, theirs, f"LayerNorm d/d{what}")
