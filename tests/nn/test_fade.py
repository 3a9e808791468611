"""Fade, the two-path container: y = alpha new(x) + (1 - alpha) old(x). Its backward
against finite differences (float64, random upstream gradient, drawn shapes and alphas,
batch 1 included; NumPy and the strict backend) -- every parameter of both paths and the
input --, the split written out (alpha gy into new, (1 - alpha) gy into old, input
gradients added), a path with weight 0 not run at all, and its errors. PyTorch parity:
tests/parity/test_torch_parity_progressive.py."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, ShapeError
from minigan.gradcheck import check_module

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)
alphas = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.05, 0.95))


def growing_fade(c_in, c_out, alpha, seed):
    """The generator's fade in small: old = 1x1 conv then 2x upsampling; new = 2x
    upsampling then a 3x3 conv (float64, random biases)."""
    rng = mg.backend.default_rng(seed)
    old = mg.nn.Sequential(mg.nn.Conv2d(c_in, c_out, 1, dtype="float64", rng=rng),
                           mg.nn.Upsample2d(2))
    new = mg.nn.Sequential(mg.nn.Upsample2d(2),
                           mg.nn.Conv2d(c_in, c_out, 3, padding=1, dtype="float64", rng=rng))
    for conv in (old[0], new[1]):
        conv.bias.data[...] = rng.standard_normal(c_out)
    return mg.nn.Fade(old, new, alpha)


@given(n=st.integers(1, 3), hw=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       c_in=st.integers(1, 3), c_out=st.integers(1, 2), alpha=alphas, seed=seeds)
def test_fade_matches_finite_differences(array_backend, n, hw, c_in, c_out, alpha, seed):
    fade = growing_fade(c_in, c_out, alpha, seed)
    x = mg.backend.default_rng(seed + 1).standard_normal((n, *hw, c_in))
    errors = check_module(fade, x)
    assert [e.name for e in errors] == ["input", "old.0.weight", "old.0.bias", "new.1.weight",
                                        "new.1.bias"]
    for error in errors:
        assert error.within(TOLERANCE), error
    silent = {"old"} if alpha == 1 else {"new"} if alpha == 0 else set()
    for error in errors:
        if error.name.split(".")[0] in silent:  # a path with weight 0 gets no gradient
            assert error.max_abs_error == 0 and error.scale == 1e-30, error
    # count only draws that compared real gradients on the paths that run (a random
    # upstream gradient can make one small by chance)
    assume(min(error.scale for error in errors if error.name.split(".")[0] not in silent)
           > 1e-3)


@given(alpha=st.floats(0.05, 0.95), seed=seeds)
def test_the_backward_splits_as_its_docstring_says(alpha, seed):
    """gx = new.backward(alpha gy) + old.backward((1 - alpha) gy), and each path's
    parameter gradients are those of its own backward of that share, computed here on
    the paths alone."""
    fade = growing_fade(2, 3, alpha, seed)
    rng = np.random.default_rng(seed)
    x, gy = rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((2, 6, 4, 3))
    y = fade(x)
    np.testing.assert_allclose(y, alpha * fade.new(x) + (1 - alpha) * fade.old(x), rtol=1e-14)
    fade(x)
    gx = fade.backward(gy)
    by_path = {}
    for name, share in (("new", alpha), ("old", 1 - alpha)):
        path = getattr(fade, name)
        for p in path.parameters():
            by_path[id(p)] = p.grad.copy()
            p.zero_grad()
        path(x)
        by_path[name] = path.backward(share * gy)
    np.testing.assert_allclose(gx, by_path["new"] + by_path["old"], rtol=1e-13, atol=1e-13)
    for p in fade.parameters():
        np.testing.assert_allclose(by_path[id(p)], p.grad, rtol=1e-13, atol=1e-13)


class Forbidden(mg.nn.Module):
    """A path that must not be run."""

    def forward(self, x):
        raise AssertionError("this path has weight 0 and must not run")

    def backward(self, gy, need_input_grad=True):
        raise AssertionError("this path has weight 0 and must not run")


@pytest.mark.parametrize("alpha, path", [(1.0, "old"), (0.0, "new")])
def test_a_path_with_weight_zero_is_not_run(alpha, path):
    live = mg.nn.Tanh()
    fade = mg.nn.Fade(**{path: Forbidden(), ("new" if path == "old" else "old"): live},
                      alpha=alpha)
    x = np.linspace(-2, 2, 12).reshape(2, 6)
    y = fade(x)
    np.testing.assert_array_equal(y, np.tanh(x))     # exactly the live path's output
    np.testing.assert_array_equal(fade.backward(np.ones_like(y)), 1 - np.tanh(x) ** 2)


def test_alpha_is_checked_and_a_forward_keeps_its_own():
    fade = growing_fade(1, 1, 0.25, 0)
    for bad in (-0.1, 1.5, float("nan"), "half"):
        with pytest.raises(ConfigError, match="Fade: alpha must be"):
            fade.alpha = bad
    x = np.ones((1, 2, 2, 1))
    y = fade(x)
    fade.alpha = 1.0                                  # changed between forward and backward
    gx_kept = fade.backward(np.ones_like(y))
    fade.alpha = 0.25
    fade(x)
    np.testing.assert_array_equal(fade.backward(np.ones_like(y)), gx_kept)


def test_errors_name_the_fade_and_the_path():
    with pytest.raises(ConfigError, match="Fade: old must be a minigan Module, got function"):
        mg.nn.Fade(lambda x: x, mg.nn.Tanh())
    mismatched = mg.nn.Fade(mg.nn.Upsample2d(2), mg.nn.Tanh(), alpha=0.5)
    with pytest.raises(ShapeError, match=r"Fade\(alpha=0.5\): the paths must give outputs of "
                                         r"one shape and dtype, got new \(1, 2, 2, 1\) float64 "
                                         r"and old \(1, 4, 4, 1\) float64"):
        mismatched(np.ones((1, 2, 2, 1)))
    inner = mg.nn.Fade(mg.nn.Tanh(), mg.nn.Dense(3, 2, dtype="float64"), alpha=0.5)
    with pytest.raises(ShapeError, match=r"Fade\.new: Dense\(3, 2, bias=True\): expected 3"):
        inner(np.ones((1, 4)))
    with pytest.raises(mg.errors.StateError, match="without a preceding forward"):
        inner.backward(np.ones((1, 2)))


def test_state_dict_keys_and_need_input_grad():
    fade = growing_fade(2, 1, 0.5, 0)
    assert list(fade.state_dict()) == ["old.0.weight", "old.0.bias", "new.1.weight",
                                       "new.1.bias"]
    y = fade(np.ones((1, 2, 2, 2)))
    assert fade.backward(np.ones_like(y), need_input_grad=False) is None
    assert all(float(abs(p.grad).sum()) > 0 for p in fade.parameters())
    assert "Fade(alpha=0.5," in repr(fade)
