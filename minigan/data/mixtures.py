"""The two 2-D Gaussian mixtures on which mode collapse is measured (VEEGAN, Srivastava et
al. 2017; PacGAN, Lin et al. 2018), as ``Mixture`` objects and sampling functions.

- ring: 8 modes, means (cos 2 pi k/8, sin 2 pi k/8) on the unit circle, std 0.01;
- grid: 25 modes, means {-4, -2, 0, 2, 4}^2, std 0.05.

Every mode has the same weight and an isotropic standard deviation. Samples are float32
arrays of the active backend (``minigan.backend``), drawn from its seeded generator::

    x = mg.data.gaussian_ring(2500, seed=0)          # (2500, 2) float32
    mg.metrics.mode_coverage(x, RING.means, RING.std)   # every mode, all high quality
"""

import math

import numpy

from .. import backend
from ..errors import ConfigError, ShapeError
from ..validate import finite_number, is_int


class Mixture:
    """An equal-weight mixture of isotropic 2-D Gaussians N(mean_k, std^2 I).

    means: host float64 array (K, 2); std: float. ``sample(n, seed)`` -> (n, 2) float32 on
    the active backend; ``density(points)`` / ``log_density(points)`` -> (n,) of p_data.
    """

    def __init__(self, name, means, std):
        means = numpy.array(means, dtype=numpy.float64)
        if means.ndim != 2 or means.shape[1] != 2 or not len(means):
            raise ShapeError(f"Mixture: means must be a (K, 2) array, got shape {means.shape}")
        self.name = name
        self.means = means
        self.means.flags.writeable = False
        self.std = finite_number("Mixture", "std", std, above=0)

    @property
    def modes(self):
        """K, the number of modes."""
        return len(self.means)

    def sample(self, n, seed=None):
        """n samples (n, 2) float32 of the active backend: a mode drawn uniformly per sample,
        then mean + std * N(0, I). ``seed`` (an int, or None for fresh entropy) seeds the
        backend's generator, so the same seed gives the same samples on the same backend."""
        if not is_int(n) or n < 1:
            raise ConfigError(f"{self.name}: n must be a positive int (samples), got {n!r}")
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ConfigError(f"{self.name}: seed must be an int >= 0 or None, got {seed!r}")
        xp = backend.xp
        rng = backend.default_rng(None if seed is None else int(seed))
        means = backend.to_device(self.means.astype(numpy.float32))
        picks = rng.integers(0, self.modes, size=int(n))
        noise = rng.standard_normal((int(n), 2), dtype=xp.float32)
        return means[picks] + numpy.float32(self.std) * noise

    def log_density(self, points):
        """log p(x) for points (n, 2) of any backend -> (n,) in points' floating dtype
        (float64 for integer input): log mean_k N(x; mean_k, std^2 I), by log-sum-exp."""
        xp = backend.xp
        points = backend.to_device(points)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ShapeError(f"{self.name}: points must be (n, 2), got shape "
                             f"{tuple(points.shape)}")
        if points.dtype.kind != "f":
            points = points.astype(xp.float64)
        means = backend.to_device(self.means.astype(points.dtype))
        d2 = ((points[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)    # (n, K)
        logits = -d2 / (2 * self.std ** 2)
        top = logits.max(axis=1)
        log_sum = top + xp.log(xp.exp(logits - top[:, None]).sum(axis=1))
        # N(x; mu, s^2 I) in 2-D: exp(-|x - mu|^2 / 2 s^2) / (2 pi s^2); mean over K modes
        return log_sum - math.log(2 * math.pi * self.std ** 2 * self.modes)

    def density(self, points):
        """p(x) for points (n, 2) -> (n,) (see ``log_density``)."""
        return backend.xp.exp(self.log_density(points))

    def __repr__(self):
        return f"Mixture({self.name!r}, {self.modes} modes, std={self.std})"


RING_MEANS = numpy.array([(math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8))
                          for k in range(8)])
"""(8, 2): the ring's means on the unit circle, k = 0..7 counter-clockwise from (1, 0)."""
RING_STD = 0.01
GRID_MEANS = numpy.array([(a, b) for a in (-4.0, -2.0, 0.0, 2.0, 4.0)
                          for b in (-4.0, -2.0, 0.0, 2.0, 4.0)])
"""(25, 2): the grid's means {-4, -2, 0, 2, 4}^2, row by row in the first coordinate."""
GRID_STD = 0.05

RING = Mixture("gaussian_ring", RING_MEANS, RING_STD)
GRID = Mixture("gaussian_grid", GRID_MEANS, GRID_STD)
MIXTURES = {"ring": RING, "grid": GRID}
"""The mixtures by short name."""


def gaussian_ring(n, seed=None):
    """(n, 2) float32 on the active backend from the ring: 8 modes on the unit circle,
    std 0.01 (``RING``)."""
    return RING.sample(n, seed)


def gaussian_grid(n, seed=None):
    """(n, 2) float32 on the active backend from the grid: 25 modes at {-4,-2,0,2,4}^2,
    std 0.05 (``GRID``)."""
    return GRID.sample(n, seed)
