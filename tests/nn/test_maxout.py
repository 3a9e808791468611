"""Maxout: its backward against finite differences, its double backward against finite
differences of the backward, its ties, its errors; float64, random upstream gradients,
hypothesis-drawn shapes, on NumPy and on the strict CuPy-like backend. (PyTorch parity:
test_torch_parity_maxout.py.)

Finite differences move a piece's value by about 1e-6; every draw keeps the two largest
pieces of each unit at least 1e-3 apart, so the winner never changes inside a difference.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_double_backward import check_double_backward
from test_layers_gradcheck import assert_gradients_match, random_input
from test_penalties import assert_penalty_gradients_match

import minigan as mg
from minigan import functional as F
from minigan.errors import ConfigError, ShapeError, StateError

seeds = st.integers(0, 2**31 - 1)
shapes = dict(n=st.integers(1, 4), fan_in=st.integers(1, 5), units=st.integers(1, 4),
              pieces=st.integers(1, 4), seed=seeds)


def piece_gap(x, w, b, pieces):
    """The smallest gap between the largest and second largest piece of any unit."""
    xp = mg.backend.xp
    z = x @ w + (0 if b is None else b)
    z = xp.sort(z.reshape(x.shape[0], -1, pieces), axis=2)
    return float((z[:, :, -1] - z[:, :, -2]).min()) if pieces > 1 else float("inf")


def layer_gap(layer, x):
    bias = None if layer.bias is None else layer.bias.data
    return piece_gap(x, layer.weight.data, bias, layer.pieces)


@given(**shapes, bias=st.booleans())
@settings(max_examples=30, deadline=None)
def test_backward_matches_finite_differences(array_backend, n, fan_in, units, pieces, seed,
                                             bias):
    layer = mg.nn.Maxout(fan_in, units, pieces, bias=bias, dtype="float64",
                         rng=mg.backend.default_rng(seed))
    if bias:  # a non-zero bias, so that its gradient is tested on a real layer
        layer.bias.data[...] = mg.backend.default_rng(seed + 2).standard_normal(
            layer.bias.shape)
    x = random_input((n, fan_in), seed + 1)
    assume(layer_gap(layer, x) > 1e-3)
    errors = assert_gradients_match(layer, x)
    assert [e.name for e in errors] == ["input", "weight"] + (["bias"] if bias else [])


@given(**shapes, bias=st.booleans())
@settings(max_examples=25, deadline=None)
def test_double_backward_matches_finite_differences_of_the_backward(
        array_backend, n, fan_in, units, pieces, seed, bias):
    rng = mg.backend.default_rng(seed)
    a = {"x": rng.standard_normal((n, fan_in)), "w": rng.standard_normal((fan_in,
                                                                          units * pieces)),
         "gy": rng.standard_normal((n, units))}
    if bias:
        a["b"] = rng.standard_normal((units * pieces,))
    assume(piece_gap(a["x"], a["w"], a.get("b"), pieces) > 1e-3)

    def cache(a):
        return F.maxout_forward(a["x"], a["w"], a.get("b"), pieces)[1]

    def second(a, v):
        ggy, gw = F.maxout_double_backward(v, a["gy"], cache(a))
        return {"gy": ggy, "w": gw, "x": None, **({"b": None} if bias else {})}

    check_double_backward(a, lambda a: F.maxout_backward(a["gy"], cache(a))[0], second)


@given(n=st.integers(1, 3), fan_in=st.integers(1, 4), hidden=st.integers(1, 3),
       pieces=st.integers(2, 3), name=st.sampled_from(["r1", "wgan-gp"]), seed=seeds)
@settings(max_examples=15, deadline=None)
def test_penalties_through_a_maxout_critic_match_finite_differences(
        array_backend, n, fan_in, hidden, pieces, name, seed):
    """R1 and WGAN-GP on Maxout, Maxout, Dense: the double backward of the whole critic."""
    D = mg.nn.Sequential(mg.nn.Maxout(fan_in, hidden, pieces, dtype="float64"),
                         mg.nn.Maxout(hidden, hidden, pieces, dtype="float64"),
                         mg.nn.Dense(hidden, 1, dtype="float64"))
    rng = mg.backend.default_rng(seed)
    for p in D.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal((n, fan_in))
    h = x
    for layer in D.layers[:2]:
        assume(layer_gap(layer, h) > 1e-3)
        h = layer.forward(h)
    assert_penalty_gradients_match(D, x, name)


def test_forward_is_the_largest_piece_of_each_unit(array_backend):
    xp = mg.backend.xp
    layer = mg.nn.Maxout(2, 2, 3, dtype="float64")
    # unit 0: pieces x0, -x0, x1; unit 1: 2 x1, x0 + x1, 0 (+ bias 0.5 on its last piece)
    layer.weight.data[...] = xp.asarray([[1.0, -1.0, 0.0, 0.0, 1.0, 0.0],
                                         [0.0, 0.0, 1.0, 2.0, 1.0, 0.0]])
    layer.bias.data[...] = xp.asarray([0.0, 0.0, 0.0, 0.0, 0.0, 0.5])
    x = xp.asarray([[3.0, -1.0], [-2.0, 1.5], [0.1, 0.2]])
    y = layer(x)
    expected = [[3.0, 2.0], [2.0, 3.0], [0.2, 0.5]]
    assert mg.backend.to_numpy(y).tolist() == expected
    gy = xp.asarray([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    gx = mg.backend.to_numpy(layer.backward(gy))
    # row 0: unit 0 wins by piece 0 (d/dx = (1, 0)), unit 1 by piece 1 (x0 + x1: (1, 1))
    assert gx.tolist() == [[1.0 + 10.0, 10.0], [-2.0 + 0.0, 40.0], [0.0, 3.0]]


def test_on_a_tie_the_first_largest_piece_takes_the_whole_gradient(array_backend):
    """torch.max(z, dim) returns (and differentiates) the first maximal index."""
    xp = mg.backend.xp
    z_w = xp.asarray([[1.0, 1.0, 1.0, 0.5]])   # one input; pieces 0, 1, 2 equal, piece 3 less
    x = xp.asarray([[2.0]])
    y, cache = F.maxout_forward(x, z_w, None, 4)
    assert float(y[0, 0]) == 2.0
    gx, gw, _ = F.maxout_backward(xp.asarray([[5.0]]), cache)
    assert mg.backend.to_numpy(gw).tolist() == [[10.0, 0.0, 0.0, 0.0]]
    assert float(gx[0, 0]) == 5.0


def test_one_piece_is_a_dense_layer(array_backend):
    rng = mg.backend.default_rng(3)
    x, w, b = (rng.standard_normal((4, 3)), rng.standard_normal((3, 2)),
               rng.standard_normal((2,)))
    y, _ = F.maxout_forward(x, w, b, 1)
    dense, _ = F.dense_forward(x, w, b)
    assert float(mg.backend.xp.abs(y - dense).max()) == 0.0


def test_backward_leaves_gy_alone_and_accumulates(array_backend):
    xp = mg.backend.xp
    layer = mg.nn.Maxout(3, 2, 2, dtype="float64", rng=mg.backend.default_rng(0))
    x = mg.backend.default_rng(1).standard_normal((5, 3))
    gy = mg.backend.default_rng(2).standard_normal((5, 2))
    before = gy.copy()
    layer(x)
    layer.backward(gy)
    first = layer.weight.grad.copy()
    layer(x)
    layer.backward(gy)
    assert float(xp.abs(gy - before).max()) == 0.0
    assert float(xp.abs(layer.weight.grad - 2 * first).max()) <= 1e-15 * float(
        xp.abs(first).max())


def test_float32_in_float32_out(array_backend):
    layer = mg.nn.Maxout(2, 3, 5)
    y = layer(mg.data.gaussian_ring(4, seed=0))
    assert y.dtype == mg.backend.xp.float32 and tuple(y.shape) == (4, 3)
    assert layer.weight.shape == (2, 15) and layer.bias.shape == (15,)


@pytest.mark.parametrize("make, error, message", [
    (lambda: mg.nn.Maxout(2, 3, 0), ConfigError, "pieces"),
    (lambda: mg.nn.Maxout(0, 3, 2), ConfigError, "in_features"),
    (lambda: mg.nn.Maxout(2, 3.5, 2), ConfigError, "out_features"),
    (lambda: mg.nn.Maxout(2, 3, 2)(np.zeros((4, 3), np.float32)), ShapeError, "in_features"),
    (lambda: mg.nn.Maxout(2, 3, 2)(np.zeros((4, 2, 1), np.float32)), ShapeError, "2"),
    (lambda: mg.nn.Maxout(2, 3, 2).backward(np.zeros((4, 3), np.float32)), StateError,
     "without a preceding forward"),
])
def test_bad_use_is_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_state_dict_and_repr():
    layer = mg.nn.Maxout(4, 200, 5)
    assert sorted(layer.state_dict()) == ["bias", "weight"]
    assert repr(layer) == "Maxout(4, 200, pieces=5, bias=True)"


@given(n=st.integers(1, 3), fan_in=st.integers(1, 4), units=st.integers(1, 3),
       pieces=st.integers(1, 3), seed=seeds)
@settings(max_examples=15, deadline=None)
def test_a_spectrally_normalised_maxout_matches_finite_differences(array_backend, n, fan_in,
                                                                   units, pieces, seed):
    """SpectralNorm(Maxout): the gradient reaches W through W / sigma(W) (eval mode: u
    fixed, so the forward is a function of W alone)."""
    layer = mg.nn.Maxout(fan_in, units, pieces, dtype="float64",
                         rng=mg.backend.default_rng(seed))
    sn = mg.nn.SpectralNorm(layer, rng=mg.backend.default_rng(seed + 1))
    sn.eval()
    x = random_input((n, fan_in), seed + 2)
    assume(layer_gap(layer, x) > 1e-3)
    errors = assert_gradients_match(sn, x)
    assert "layer.weight" in [e.name for e in errors]
