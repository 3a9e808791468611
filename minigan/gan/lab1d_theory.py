"""The theory half of the 1-D GAN lab: densities compared on a grid (host NumPy, float64).

    D*(x)    = p_data(x) / (p_data(x) + p_g(x))                 optimal_discriminator
    V(D, G)  = int p_data log D + int p_g log(1 - D) dx            value_on_grid
             = E_data[log D] + E_g[log(1 - D)]  (samples)          value_from_logits
    V(D*, G) = -log 4 + 2 JSD(p_data || p_g)                       jensen_shannon
    p_g      ~ a Gaussian KDE (Silverman) or a histogram of G's samples

``minigan.gan.lab1d`` re-exports every public name here; see its docstring.
"""

import math

import numpy

from .. import backend
from .. import functional as F
from ..errors import ConfigError, ShapeError
from ..validate import check_floating, finite_number, positive_int

V_OPTIMUM = -math.log(4.0)
"""min over G of max over D of V(D, G): -log 4 ~ -1.386, reached exactly when p_g = p_data
(then D* = 1/2 everywhere and V = log 1/2 + log 1/2)."""

JSD_MAX = math.log(2.0)
"""The largest Jensen-Shannon divergence (natural log): two densities with disjoint
supports. Then V(D*, G) = -log 4 + 2 log 2 = 0: D* is 1 on the data and 0 on the fakes."""


def host_points(where, x):
    """x as a float64 host array (a grid or a batch of points; any shape)."""
    x = numpy.asarray(backend.to_numpy(x), dtype=numpy.float64)
    if x.size == 0:
        raise ShapeError(f"{where}: x is empty, shape {x.shape}; expected at least one point")
    if not numpy.all(numpy.isfinite(x)):
        raise ConfigError(f"{where}: x must hold finite numbers")
    return x


def make_grid(lo, hi, n=801):
    """n equally spaced points from lo to hi (float64, host): where densities are compared."""
    lo = finite_number("make_grid", "lo", lo)
    hi = finite_number("make_grid", "hi", hi)
    n = positive_int("make_grid", "n", n)
    if not hi > lo or n < 3:
        raise ConfigError(f"make_grid: need lo < hi and n >= 3, got lo={lo}, hi={hi}, n={n}")
    return numpy.linspace(lo, hi, n)


def host_samples(where, samples):
    s = numpy.asarray(backend.to_numpy(samples), dtype=numpy.float64).reshape(-1)
    if s.size < 2:
        raise ShapeError(f"{where}: need at least 2 samples, got {s.size}")
    if not numpy.all(numpy.isfinite(s)):
        raise ConfigError(f"{where}: samples must be finite")
    return s


def _grid(where, x):
    x = host_points(where, x)
    if x.ndim != 1 or x.size < 3 or not numpy.all(numpy.diff(x) > 0):
        raise ShapeError(f"{where}: x must be an increasing 1-d grid of at least 3 points, "
                         f"got shape {x.shape}")
    return x


def _density(where, name, p, x):
    p = numpy.asarray(backend.to_numpy(p), dtype=numpy.float64)
    if p.shape != x.shape:
        raise ShapeError(f"{where}: {name} must be a density on the grid, shape {x.shape}, "
                         f"got {p.shape}")
    if not numpy.all(numpy.isfinite(p)) or numpy.any(p < 0):
        raise ConfigError(f"{where}: {name} must be finite and >= 0 (a density)")
    return p


def silverman_bandwidth(samples):
    """Silverman's rule of thumb: 0.9 min(std, IQR / 1.34) n^(-1/5) (0 for equal samples)."""
    s = host_samples("silverman_bandwidth", samples)
    spread = numpy.std(s, ddof=1)
    q75, q25 = numpy.percentile(s, [75, 25])
    iqr = (q75 - q25) / 1.34
    scale = min(spread, iqr) if iqr > 0 else spread
    return float(0.9 * scale * s.size ** (-0.2))


def kde_density(samples, x, bandwidth=None):
    """The Gaussian kernel density estimate of the samples' density at the grid x.

    bandwidth: None for Silverman's rule, never narrower than 1.5 grid steps (a G
    collapsed onto one point still gives a density the grid can integrate to 1).
    Returns a float64 host array of x's shape. Cost: len(samples) x len(x) (done in
    chunks of samples)."""
    where = "kde_density"
    s = host_samples(where, samples)
    x = _grid(where, x)
    floor = 1.5 * float(numpy.min(numpy.diff(x)))
    if bandwidth is None:
        h = max(silverman_bandwidth(s), floor)
    else:
        h = finite_number(where, "bandwidth", bandwidth, above=0)
    out = numpy.zeros_like(x)
    for start in range(0, s.size, 2048):  # bounded memory: 2048 x len(x) at a time
        u = (x[None, :] - s[start:start + 2048, None]) / h
        out += numpy.exp(-0.5 * u * u).sum(axis=0)
    return out / (s.size * h * math.sqrt(2 * math.pi))


def histogram_density(samples, x):
    """A histogram of the samples with one bin per grid point (bin edges half-way
    between grid points), normalised as a density: a float64 host array of x's shape.
    Mass outside the grid is dropped (so it integrates to the fraction inside)."""
    where = "histogram_density"
    s = host_samples(where, samples)
    x = _grid(where, x)
    mid = (x[1:] + x[:-1]) / 2
    edges = numpy.concatenate([[x[0] - (mid[0] - x[0])], mid, [x[-1] + (x[-1] - mid[-1])]])
    counts, _ = numpy.histogram(s, bins=edges)
    return counts / (s.size * numpy.diff(edges))


def integrate(f, x):
    """The trapezoid rule: int f dx on the grid x (float)."""
    x = _grid("integrate", x)
    f = numpy.asarray(f, dtype=numpy.float64)
    return float(numpy.sum((f[1:] + f[:-1]) * numpy.diff(x)) / 2)


def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data / (p_data + p_g), pointwise (float64 host arrays of one shape).

    Where both densities are exactly 0, D* is undefined (any D is optimal there: no
    sample ever lands there); it is set to 1/2 by convention."""
    where = "optimal_discriminator"
    p = numpy.asarray(backend.to_numpy(p_data), dtype=numpy.float64)
    q = numpy.asarray(backend.to_numpy(p_g), dtype=numpy.float64)
    if p.shape != q.shape:
        raise ShapeError(f"{where}: p_data and p_g must have the same shape, got {p.shape} "
                         f"and {q.shape}")
    if not (numpy.all(numpy.isfinite(p)) and numpy.all(numpy.isfinite(q))) \
            or numpy.any(p < 0) or numpy.any(q < 0):
        raise ConfigError(f"{where}: densities must be finite and >= 0")
    total = p + q
    return numpy.where(total > 0, p / numpy.where(total > 0, total, 1.0), 0.5)


def _xlogy(a, b):
    """a * log(b) with 0 * log(anything) = 0."""
    out = numpy.zeros_like(a)
    mask = a > 0
    out[mask] = a[mask] * numpy.log(b[mask])
    return out


def jensen_shannon(p, q, x, normalize=True):
    """JSD(p || q) = 1/2 int p log(2p / (p + q)) + 1/2 int q log(2q / (p + q)), natural log,
    by the trapezoid rule on the grid x. In [0, log 2]: 0 iff p = q, log 2 for disjoint
    supports. normalize=True first rescales p and q to integrate to 1 on the grid
    (a KDE's tails may reach past it)."""
    where = "jensen_shannon"
    x = _grid(where, x)
    p, q = _density(where, "p", p, x), _density(where, "q", q, x)
    if normalize:
        p, q = _normalized(where, "p", p, x), _normalized(where, "q", q, x)
    m = (p + q) / 2
    integrand = 0.5 * _xlogy(p, p / numpy.where(m > 0, m, 1.0)) \
        + 0.5 * _xlogy(q, q / numpy.where(m > 0, m, 1.0))
    return min(max(integrate(integrand, x), 0.0), JSD_MAX)


def _normalized(where, name, p, x):
    mass = integrate(p, x)
    if not mass > 0:
        raise ConfigError(f"{where}: {name} has no mass on the grid")
    return p / mass


def value_on_grid(d, p_data, p_g, x):
    """V(D, G) = int p_data log D + int p_g log(1 - D) dx on the grid, for D given by its
    values d in [0, 1] on the grid (e.g. ``optimal_discriminator(p_data, p_g)``).
    A term with zero density contributes 0 (0 log 0 = 0). log D and log(1 - D) are
    floored at log(1e-300) ~ -691: in floating point D* = p / (p + q) rounds to exactly 1
    where q / p < 1e-17 although q > 0, and that term's true weight is negligible (a D
    that is truly 0 where p_data has mass then gives a very negative value, not -inf).
    With d = D*: -log 4 + 2 JSD(p_data || p_g)."""
    where = "value_on_grid"
    x = _grid(where, x)
    d = _density(where, "d", d, x)
    if numpy.any(d > 1):
        raise ConfigError(f"{where}: d must hold probabilities in [0, 1]")
    p, q = _density(where, "p_data", p_data, x), _density(where, "p_g", p_g, x)
    tiny = 1e-300
    integrand = _xlogy(p, numpy.maximum(d, tiny)) + _xlogy(q, numpy.maximum(1.0 - d, tiny))
    return integrate(integrand, x)


def value_from_logits(real_logits, fake_logits):
    """The sample estimate of V(D, G) from D's logits on a real and a fake batch:
    mean log sigmoid(r) + mean log(1 - sigmoid(f)) = -mean softplus(-r) - mean softplus(f)
    (stable for any finite logit; computed on the backend, one float back)."""
    where = "value_from_logits"
    check_floating(where, "real_logits", real_logits, "(N, 1)")
    check_floating(where, "fake_logits", fake_logits, "(N, 1)")
    real, _ = F.bce_with_logits_forward(real_logits, 1.0)  # mean softplus(-r) = -E log D
    fake, _ = F.bce_with_logits_forward(fake_logits, 0.0)  # mean softplus(f) = -E log(1-D)
    return -float(real) - float(fake)


def relevant_region(p_data, p_g, fraction=0.01):
    """A boolean mask of the grid points where p_data + p_g >= fraction * its maximum:
    where D is trained by samples at all (elsewhere D is unconstrained)."""
    total = numpy.asarray(p_data, dtype=numpy.float64) + numpy.asarray(p_g, dtype=numpy.float64)
    fraction = finite_number("relevant_region", "fraction", fraction, minimum=0, below=1)
    return total >= fraction * total.max()
