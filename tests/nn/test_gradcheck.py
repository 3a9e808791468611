"""The finite-difference checker itself: shown a backward that is wrong by 1e-5 in a
single element, ``check_module`` measures that error and ``GradientError.within``
rejects it, in both modes; a correct backward passes; the round-off floor that
``within`` forgives is the documented formula and stays far below such an error."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.gradcheck import GradientError, check_module, roundoff_floor

TOLERANCE = 1e-6  # what the suite's gradient tests use
DELTA = 1e-5      # the injected error: 10x the tolerance at gradient scale ~1


class WrongBy(mg.nn.Module):
    """``inner``'s forward; its backward, except that ``target`` ("input" or a parameter
    name of ``inner``) gets ``delta`` added at one ``index``."""

    def __init__(self, inner, target=None, index=None, delta=DELTA):
        super().__init__()
        self.inner, self.target, self.index, self.delta = inner, target, index, delta

    def forward(self, x):
        return self.inner.forward(x)

    def backward(self, gy, need_input_grad=True):
        gx = self.inner.backward(gy, need_input_grad)
        if self.target == "input":
            gx = gx.copy()
            gx[self.index] += self.delta
        elif self.target is not None:
            getattr(self.inner, self.target).grad[self.index] += self.delta
        return gx


def dense_and_input(seed=0):
    """A float64 Dense(3, 2) with random weights and bias, and a random input (2, 3)."""
    rng = np.random.default_rng(seed)
    dense = mg.nn.Dense(3, 2, dtype="float64")
    dense.weight.data[...] = rng.standard_normal((3, 2))
    dense.bias.data[...] = rng.standard_normal(2)
    return dense, rng.standard_normal((2, 3))


def every_element():
    """(target, index) for each of the 14 gradient elements: input (2, 3), weight (3, 2),
    bias (2,)."""
    shapes = {"input": (2, 3), "weight": (3, 2), "bias": (2,)}
    return [(target, index) for target, shape in shapes.items()
            for index in itertools.product(*map(range, shape))]


def test_a_correct_backward_passes_both_modes():
    dense, x = dense_and_input()
    errors = check_module(WrongBy(dense), x)
    assert [e.name for e in errors] == ["input", "inner.weight", "inner.bias"]
    assert all(e.max_abs_error < 1e-9 and e.within(TOLERANCE) for e in errors), errors
    directional = check_module(WrongBy(dense), x, mode="directional")
    assert len(directional) == 3
    assert all(e.max_abs_error < 1e-9 and e.within(TOLERANCE) for e in directional), directional


@pytest.mark.parametrize("target, index", every_element())
def test_elementwise_mode_rejects_one_element_off_by_1e_5(target, index):
    """Each of the 14 elements in turn off by 1e-5: the entry for that array reports
    max_abs_error = 1e-5 (to 1e-9) at a gradient scale below 5, and ``within(1e-6)`` is
    False for it, True for the two untouched arrays."""
    dense, x = dense_and_input()
    errors = {e.name: e for e in check_module(WrongBy(dense, target, index), x)}
    name = target if target == "input" else f"inner.{target}"
    wrong = errors.pop(name)
    assert abs(wrong.max_abs_error - DELTA) < 1e-9 and wrong.scale < 5, wrong
    assert not wrong.within(TOLERANCE), wrong
    assert all(e.within(TOLERANCE) for e in errors.values()), errors


@pytest.mark.parametrize("target, index", every_element())
def test_directional_mode_rejects_one_element_off_by_1e_5(target, index):
    """Each of the 14 elements in turn off by 1e-5, checked along the default 3 random
    directions (seed 0): a direction's error is 1e-5 times that element's component of
    the direction, and at least one of the 3 is rejected by ``within(1e-6)``."""
    dense, x = dense_and_input()
    errors = check_module(WrongBy(dense, target, index), x, mode="directional")
    assert len(errors) == 3 and all(e.max_abs_error < 5 * DELTA for e in errors), errors
    assert not all(e.within(TOLERANCE) for e in errors), errors


def test_the_round_off_floor_is_the_documented_formula_and_far_below_the_error():
    """In the checks above the floor is 8 ulp * sum |y * gy| / eps, computed here, and
    below 1e-9: it cannot forgive a 1e-5 error."""
    dense, x = dense_and_input()
    y = dense(x)
    gy = mg.backend.default_rng(0).standard_normal(y.shape)  # check_module's gy (seed 0)
    expected = 8 * 2.0**-52 * np.abs(y * gy).sum() / 1e-6
    assert roundoff_floor(y, gy, 1e-6) == pytest.approx(expected, rel=1e-12)
    for mode in ("elementwise", "directional"):
        for error in check_module(WrongBy(dense, "input", (0, 0)), x, mode=mode):
            assert error.roundoff_floor == pytest.approx(expected, rel=1e-12)
            assert error.roundoff_floor < 1e-9


@given(size=st.integers(1, 1000), eps=st.sampled_from([1e-4, 1e-6, 1e-8]),
       seed=st.integers(0, 2**31 - 1))
def test_the_round_off_floor_scales_with_the_summed_magnitudes_over_eps(size, eps, seed):
    """floor = 8 * 2^-52 * sum |y * gy| / eps for random y, gy: about 1.8e-15 per unit
    of summed magnitude at eps = 1e-6."""
    rng = np.random.default_rng(seed)
    y, gy = rng.standard_normal(size), rng.standard_normal(size)
    floor = roundoff_floor(y, gy, eps)
    assert floor == pytest.approx(8 * 2.0**-52 * np.abs(y * gy).sum() / eps, rel=1e-12)
    assert floor <= 1.8e-9 * size * np.abs(y * gy).max() / (eps / 1e-6)


@pytest.mark.parametrize("error, scale, floor, accepted", [
    (0.9e-6, 1.0, 0.0, True),      # below tolerance * scale
    (1.1e-6, 1.0, 0.0, False),     # above it
    (1.9e-6, 2.0, 0.0, True),      # the tolerance is relative to the scale
    (2.1e-6, 2.0, 0.0, False),
    (1.5e-6, 1.0, 0.6e-6, True),   # what the floor covers is not counted
    (1.5e-6, 1.0, 0.4e-6, False),  # ... and nothing more
    (1e-9, 1e-6, 1e-8, True),      # an error below the floor: accepted at any scale
    (1e-5, 1.0, 1e-9, False),      # the checks above: a 1e-5 error, a tiny floor
])
def test_within_counts_the_error_above_the_floor_against_tolerance_times_scale(
        error, scale, floor, accepted):
    assert GradientError("x", error, error / scale, scale, floor).within(TOLERANCE) is accepted
