"""Maxout against PyTorch (float64, 1e-8): the forward, the backward (x, W, b) and the
double backward, with PyTorch's maxout written as ``(x @ W + b).view(N, OUT, K).max(-1)``
-- ties included, where both give the whole gradient to the first largest piece -- and
the penalties of PacGAN's maxout discriminator."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import functional as F

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from test_torch_parity_double_backward import assert_matches, torch_second_order  # noqa: E402
from test_torch_parity_penalties import PENALTIES, assert_matches_torch  # noqa: E402

TOL = 1e-8
seeds = st.integers(0, 2**32 - 1)


def torch_maxout(x, w, b, pieces):
    z = x @ w + (0 if b is None else b)
    return z.view(x.shape[0], -1, pieces).max(dim=-1).values


def relative(ours, theirs):
    theirs = theirs.detach().numpy()
    return float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-300))


@given(n=st.integers(1, 6), fan_in=st.integers(1, 8), units=st.integers(1, 6),
       pieces=st.integers(1, 6), bias=st.booleans(), seed=seeds)
@settings(max_examples=30, deadline=None)
def test_forward_and_backward(n, fan_in, units, pieces, bias, seed):
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((n, fan_in)), rng.standard_normal((fan_in, units * pieces))
    b = rng.standard_normal(units * pieces) if bias else None
    gy = rng.standard_normal((n, units))
    y, cache = F.maxout_forward(x, w, b, pieces)
    gx, gw, gb = F.maxout_backward(gy, cache)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    ty = torch_maxout(tx, tw, tb, pieces)
    ty.backward(torch.tensor(gy))
    assert relative(y, ty) < TOL
    assert relative(gx, tx.grad) < TOL and relative(gw, tw.grad) < TOL
    if bias:
        assert relative(gb, tb.grad) < TOL
    else:
        assert gb is None


def test_ties_go_to_the_same_piece_as_in_torch():
    """Exact ties (integer weights and inputs): the same piece gets the gradient."""
    rng = np.random.default_rng(0)
    x = rng.integers(-2, 3, (20, 3)).astype(np.float64)
    w = rng.integers(-1, 2, (3, 4 * 3)).astype(np.float64)
    gy = rng.standard_normal((20, 4))
    z = (x @ w).reshape(20, 4, 3)
    assert ((z == z.max(axis=2, keepdims=True)).sum(axis=2) > 1).any()   # ties do occur
    _, cache = F.maxout_forward(x, w, None, 3)
    gx, gw, _ = F.maxout_backward(gy, cache)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch_maxout(tx, tw, None, 3).backward(torch.tensor(gy))
    assert np.abs(gw - tw.grad.numpy()).max() < 1e-12
    assert np.abs(gx - tx.grad.numpy()).max() < 1e-12


@given(n=st.integers(1, 5), fan_in=st.integers(1, 6), units=st.integers(1, 5),
       pieces=st.integers(1, 5), seed=seeds)
@settings(max_examples=20, deadline=None)
def test_double_backward(n, fan_in, units, pieces, seed):
    rng = np.random.default_rng(seed)
    x, w, b = (rng.standard_normal((n, fan_in)), rng.standard_normal((fan_in, units * pieces)),
               rng.standard_normal(units * pieces))
    gy, v = rng.standard_normal((n, units)), rng.standard_normal((n, fan_in))
    ggy, gw = F.maxout_double_backward(v, gy, F.maxout_forward(x, w, b, pieces)[1])
    t_gy, t_x, t_w, t_b = torch_second_order(lambda x, w, b: torch_maxout(x, w, b, pieces),
                                             x, gy, v, [w, b])
    for ours, theirs, what in [(ggy, t_gy, "gy"), (None, t_x, "x"), (gw, t_w, "W"),
                               (None, t_b, "b")]:
        assert_matches(ours, theirs, f"Maxout d/d{what}")


@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("pack", [1, 2])
def test_penalties_of_pacgans_discriminator(name, pack):
    """R1 and WGAN-GP through pacgan_discriminator (3 maxout layers, float64)."""
    D = mg.gan.pacgan_discriminator(pack=pack, dtype="float64", rng=mg.backend.default_rng(pack))
    x = np.random.default_rng(pack).standard_normal((6, 2 * pack))
    assert_matches_torch(D, x, name)
