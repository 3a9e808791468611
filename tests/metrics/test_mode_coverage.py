"""mode_coverage against hand-computed cases: modes captured, the high-quality fraction
and the reverse KL of PacGAN's 2-D benchmark; Python numbers from any backend."""

import math

import numpy as np
import pytest

import minigan as mg
from minigan.errors import ConfigError, ShapeError

MEANS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])   # K = 4, std 0.1


def score(points, means=MEANS, std=0.1):
    return mg.metrics.mode_coverage(np.asarray(points, dtype=np.float64), means, std)


def test_all_samples_on_one_mode():
    r = score([[0.01, 0.0], [0.0, -0.02], [0.05, 0.05]])
    assert r["modes"] == 1 and r["high_quality"] == 1.0 and r["counts"] == [3, 0, 0, 0]
    assert r["reverse_kl"] == pytest.approx(math.log(4), rel=1e-15)   # q = (1, 0, 0, 0)


def test_even_spread_has_zero_reverse_kl():
    r = score(MEANS + 0.01)
    assert r["modes"] == 4 and r["high_quality"] == 1.0 and r["reverse_kl"] == 0.0


def test_an_uneven_histogram_by_hand():
    # 3 high-quality samples on mode 0, 1 on mode 1, and 2 low-quality samples (0.5 from
    # every mode they are nearest to, more than 3 std = 0.3) that count for nothing
    points = [[0, 0], [0.1, 0], [0, 0.2], [1, 0.25], [0.5, 0.5], [0.5, -0.5]]
    r = score(points)
    assert r["counts"] == [3, 1, 0, 0] and r["high_quality_count"] == 4
    assert r["modes"] == 2 and r["high_quality"] == pytest.approx(4 / 6, rel=1e-15)
    # KL(q || u) = 3/4 log(4 * 3/4) + 1/4 log(4 * 1/4) = 3/4 log 3
    assert r["reverse_kl"] == pytest.approx(0.75 * math.log(3), rel=1e-14)


def test_three_standard_deviations_is_the_boundary():
    # 0.3 is not exact in binary: 0.2999 in, 0.3001 out
    r = score([[0.2999, 0.0], [0.0, -0.3001]])
    assert r["counts"] == [1, 0, 0, 0] and r["high_quality"] == 0.5


def test_no_high_quality_sample_gives_log_k():
    """q is undefined; reverse_kl is then log K, the value of a total collapse."""
    r = score([[0.5, 0.5], [3.0, 3.0]])
    assert r["modes"] == 0 and r["high_quality"] == 0.0 and r["high_quality_count"] == 0
    assert r["reverse_kl"] == pytest.approx(math.log(4), rel=1e-15)
    assert math.isfinite(r["reverse_kl"])


def test_results_are_python_numbers_from_any_backend(array_backend):
    x = mg.data.gaussian_ring(2500, seed=0)          # the backend's own array
    r = mg.metrics.mode_coverage(x, mg.data.RING.means, mg.data.RING.std)
    assert type(r["modes"]) is int and type(r["high_quality"]) is float
    assert type(r["reverse_kl"]) is float and all(type(c) is int for c in r["counts"])
    # real samples: every mode captured, 98.9 % high quality (a 2-D Gaussian puts
    # exp(-9/2) = 1.1 % of its mass beyond radius 3 std; 2500 samples: sd 0.2 %)
    assert r["modes"] == 8 and r["samples"] == 2500 and r["total_modes"] == 8
    assert abs(r["high_quality"] - (1 - math.exp(-4.5))) < 0.01
    assert r["reverse_kl"] < 0.01


def test_ties_go_to_the_first_mode():
    r = score([[0.5, 0.0]], std=0.2)   # 0.5 from modes 0 and 1 (within 3 std = 0.6 of both)
    assert r["counts"] == [1, 0, 0, 0]


@pytest.mark.parametrize("call, error, message", [
    (lambda: score(np.zeros((0, 2))), ShapeError, "non-empty"),
    (lambda: score(np.zeros((3,))), ShapeError, r"\(n, D\)"),
    (lambda: score(np.zeros((3, 3))), ShapeError, r"means must be a \(K, 3\)"),
    (lambda: score([[0.0, 0.0]], std=0.0), ConfigError, "std"),
    (lambda: score([[np.nan, 0.0]]), ConfigError, "finite"),
    (lambda: mg.metrics.mode_coverage([["a", "b"]], MEANS, 0.1), ConfigError, "numbers"),
])
def test_bad_arguments_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()
