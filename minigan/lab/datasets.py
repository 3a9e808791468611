"""The GAN lab's 2-D data sets, each a mixture of isotropic Gaussians, so that its density
p_data is known in closed form (the lab draws D* = p_data / (p_data + p_g) from it):

    ring    8 modes on the unit circle, std 0.05 (the PacGAN ring's layout, Lin et al.
            2018, with a wider std so that the modes show on the plane)
    grid    25 modes at {-4, -2, 0, 2, 4}^2, std 0.1 (the PacGAN grid's layout)
    line    a segment from (-1, -0.6) to (1, 0.6) with Gaussian noise: 200 equal modes
            evenly spaced along it, std 0.05 (node spacing 0.012, a quarter of the std,
            so the mixture is a smooth band)
    moons   two interleaved half circles (as scikit-learn's make_moons), 100 equal modes
            evenly spaced along each arc, std 0.08
    points  the points a learner clicks onto the plane, one mode each, std 0.05

Each density is exact for what is sampled: a sample picks a mode uniformly (or by its
weight) and adds N(0, std^2 I), and ``pdf`` is that mixture's density. The ring, the grid
and the clicked points have a few well-separated modes, so the mode metrics apply
(``modes``); the line and the moons are bands, with no modes to count (``modes`` None).

Host NumPy float64 throughout: these feed the trainer through ``backend.to_device`` and
the picture through JSON.
"""

import math

import numpy

from ..errors import ConfigError

NAMES = ("ring", "grid", "line", "moons", "points")
MAX_POINTS = 200
POINT_STD = 0.05
POINT_BOX = 2.0   # clicked points lie in [-2, 2]^2, the points data set's plane


class Mixture:
    """An equal-weight mixture of isotropic Gaussians N(mean_k, std^2 I) in the plane.

    means (K, 2); std > 0; extent (xmin, xmax, ymin, ymax), the part of the plane the lab
    shows; modes: True when the means are separate modes worth counting.
    """

    def __init__(self, name, means, std, extent, modes=True):
        self.name = name
        self.means = numpy.asarray(means, dtype=numpy.float64).reshape(-1, 2)
        self.std = float(std)
        self.extent = tuple(float(v) for v in extent)
        self.modes = bool(modes)

    def sample(self, n, rng):
        """n points (n, 2): a mode drawn uniformly, plus N(0, std^2 I)."""
        k = rng.integers(0, len(self.means), size=n)
        return self.means[k] + self.std * rng.standard_normal((n, 2))

    def pdf(self, points, blur=0.0):
        """The mixture's density at points (M, 2) -> (M,): the mean over the K modes of
        exp(-|x - mu_k|^2 / (2 s^2)) / (2 pi s^2), s = std; with ``blur`` > 0 the density
        of a sample plus N(0, blur^2 I), s^2 = std^2 + blur^2 (the data seen through a
        Gaussian kernel of that width)."""
        points = numpy.asarray(points, dtype=numpy.float64).reshape(-1, 2)
        std = math.hypot(self.std, blur)
        inv = 1.0 / (2.0 * std ** 2)
        total = numpy.zeros(len(points))
        for start in range(0, len(self.means), 64):  # (M, 64) blocks: bounded memory
            block = self.means[start:start + 64]
            d2 = ((points[:, None, :] - block[None, :, :]) ** 2).sum(axis=2)
            total += numpy.exp(-d2 * inv).sum(axis=1)
        return total / (len(self.means) * 2.0 * math.pi * std ** 2)

    def describe(self):
        return {"name": self.name, "modes": len(self.means) if self.modes else None,
                "std": self.std, "extent": list(self.extent)}


def ring():
    angles = 2 * math.pi * numpy.arange(8) / 8
    return Mixture("ring", numpy.stack([numpy.cos(angles), numpy.sin(angles)], 1), 0.05,
                   (-1.6, 1.6, -1.6, 1.6))


def grid():
    axis = numpy.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    means = numpy.array([(x, y) for x in axis for y in axis])
    return Mixture("grid", means, 0.1, (-5.5, 5.5, -5.5, 5.5))


def line():
    t = (numpy.arange(200) + 0.5) / 200
    means = numpy.stack([-1 + 2 * t, -0.6 + 1.2 * t], 1)
    return Mixture("line", means, 0.05, (-1.6, 1.6, -1.6, 1.6), modes=False)


def moons():
    t = math.pi * (numpy.arange(100) + 0.5) / 100
    upper = numpy.stack([numpy.cos(t), numpy.sin(t)], 1)
    lower = numpy.stack([1 - numpy.cos(t), 0.5 - numpy.sin(t)], 1)
    means = numpy.concatenate([upper, lower]) - numpy.array([0.5, 0.25])  # centred
    return Mixture("moons", means, 0.08, (-2.0, 2.0, -2.0, 2.0), modes=False)


def points(clicked):
    """The clicked points' mixture; ``clicked`` a list of [x, y] in [-2, 2]^2 (1 to
    MAX_POINTS of them). Raises ConfigError naming what was wrong."""
    where = "points"
    if not isinstance(clicked, (list, tuple)) or not 1 <= len(clicked) <= MAX_POINTS:
        count = len(clicked) if isinstance(clicked, (list, tuple)) else type(clicked).__name__
        raise ConfigError(f"{where}: expected a list of 1 to {MAX_POINTS} points [x, y], "
                          f"got {count}")
    out = []
    for p in clicked:
        if (not isinstance(p, (list, tuple)) or len(p) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                           for v in p)):
            raise ConfigError(f"{where}: each point must be [x, y] (two numbers), got {p!r}")
        if not all(math.isfinite(v) and -POINT_BOX <= v <= POINT_BOX for v in p):
            raise ConfigError(f"{where}: each coordinate must be a finite number in "
                              f"[-{POINT_BOX}, {POINT_BOX}], got {p!r}")
        out.append([float(p[0]), float(p[1])])
    return Mixture("points", out, POINT_STD, (-POINT_BOX, POINT_BOX, -POINT_BOX, POINT_BOX))


DEFAULT_POINTS = [[-1.0, -1.0], [1.0, 1.0], [1.0, -1.0]]


def make(name, clicked=None):
    """The data set ``name`` (one of NAMES); "points" uses ``clicked`` (default: three)."""
    builders = {"ring": ring, "grid": grid, "line": line, "moons": moons}
    if name == "points":
        return points(DEFAULT_POINTS if clicked is None else clicked)
    if name not in builders:
        raise ConfigError(f"data: expected one of {', '.join(NAMES)}, got {name!r}")
    return builders[name]()
