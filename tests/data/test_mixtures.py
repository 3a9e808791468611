"""The 2-D Gaussian mixtures of the mode-collapse benchmark: shapes, dtype, seeding, the
published means and standard deviations, the empirical moments of the samples, the
density, and the errors. NumPy and the strict CuPy-like backend."""

import math

import numpy as np
import pytest

import minigan as mg
from minigan.errors import ConfigError, ShapeError


def test_the_published_means_and_stds():
    ring, grid = mg.data.RING, mg.data.GRID
    assert ring.modes == 8 and ring.std == 0.01 and mg.data.RING_STD == 0.01
    assert grid.modes == 25 and grid.std == 0.05 and mg.data.GRID_STD == 0.05
    assert np.allclose(np.hypot(*ring.means.T), 1.0, atol=1e-15)      # on the unit circle
    angles = np.sort(np.mod(np.arctan2(ring.means[:, 1], ring.means[:, 0]), 2 * np.pi))
    assert np.allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-15)
    assert sorted(map(tuple, grid.means.tolist())) == [
        (a, b) for a in (-4.0, -2.0, 0.0, 2.0, 4.0) for b in (-4.0, -2.0, 0.0, 2.0, 4.0)]
    assert mg.data.MIXTURES == {"ring": ring, "grid": grid}


@pytest.mark.parametrize("sample", [mg.data.gaussian_ring, mg.data.gaussian_grid])
def test_samples_are_float32_on_the_backend_and_seeded(array_backend, sample):
    xp = mg.backend.xp
    x = sample(500, seed=3)
    assert isinstance(x, xp.ndarray) and x.dtype == xp.float32 and tuple(x.shape) == (500, 2)
    assert float(xp.abs(x - sample(500, seed=3)).max()) == 0.0       # the same draw
    assert float(xp.abs(x - sample(500, seed=4)).max()) > 0.1
    assert tuple(sample(1).shape) == (1, 2)                           # seed None: fresh


@pytest.mark.parametrize("mixture", [mg.data.RING, mg.data.GRID])
def test_samples_have_the_mixtures_moments(mixture):
    n = 40_000
    x = mg.backend.to_numpy(mixture.sample(n, seed=0)).astype(np.float64)
    d = np.linalg.norm(x[:, None, :] - mixture.means[None], axis=2)
    nearest = d.argmin(axis=1)
    counts = np.bincount(nearest, minlength=mixture.modes)
    # each count ~ Binomial(n, 1/K): within 5 standard deviations
    sd = math.sqrt(n * (1 / mixture.modes) * (1 - 1 / mixture.modes))
    assert np.abs(counts - n / mixture.modes).max() < 5 * sd
    residual = x - mixture.means[nearest]
    # the residual std per coordinate: std^2 estimated from 2n values, relative error
    # ~ 1/sqrt(n); within 5 % holds with a wide margin
    assert abs(residual.std() / mixture.std - 1) < 0.05
    assert abs(residual.mean()) < 5 * mixture.std / math.sqrt(2 * n)


def test_density_by_hand(array_backend):
    """At a mode, far from the others: p = N(0; 0, s^2 I) / K = 1 / (2 pi s^2 K)."""
    xp = mg.backend.xp
    ring = mg.data.RING
    points = xp.asarray([[1.0, 0.0], [1.0 + 0.01, 0.0]])
    p = mg.backend.to_numpy(ring.density(points))
    peak = 1 / (2 * math.pi * 0.01 ** 2 * 8)
    assert p[0] == pytest.approx(peak, rel=1e-12)
    assert p[1] == pytest.approx(peak * math.exp(-0.5), rel=1e-12)    # one std away
    assert p.dtype == np.float64
    far = mg.backend.to_numpy(mg.data.GRID.log_density(xp.asarray([[100.0, 100.0]])))
    assert np.isfinite(far).all()                                     # log-sum-exp: finite
    d2 = (96.0 ** 2) * 2
    assert far[0] == pytest.approx(-d2 / (2 * 0.05 ** 2) - math.log(2 * math.pi * 0.05 ** 2
                                                                     * 25), rel=1e-12)


def test_density_integrates_to_one():
    """A Riemann sum over a fine grid around the ring (cell 0.002, the std is 0.01)."""
    h = 0.002
    axis = np.arange(-1.1, 1.1, h)
    xs, ys = np.meshgrid(axis, axis)
    p = mg.data.RING.density(np.stack([xs.ravel(), ys.ravel()], axis=1))
    assert float(p.sum()) * h * h == pytest.approx(1.0, rel=1e-3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: mg.data.gaussian_ring(0), ConfigError, "n must be a positive int"),
    (lambda: mg.data.gaussian_grid(2.5), ConfigError, "n must be a positive int"),
    (lambda: mg.data.gaussian_ring(3, seed=-1), ConfigError, "seed"),
    (lambda: mg.data.gaussian_ring(3, seed="a"), ConfigError, "seed"),
    (lambda: mg.data.RING.density(np.zeros((3, 3))), ShapeError, r"\(n, 2\)"),
    (lambda: mg.data.Mixture("m", np.zeros((3, 3)), 0.1), ShapeError, r"\(K, 2\)"),
    (lambda: mg.data.Mixture("m", np.zeros((3, 2)), 0.0), ConfigError, "std"),
])
def test_bad_arguments_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()
