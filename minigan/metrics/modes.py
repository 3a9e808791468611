"""Mode coverage of samples from a known Gaussian mixture: the three numbers of VEEGAN
(Srivastava et al. 2017) and PacGAN (Lin et al. 2018) for the 2-D ring and grid.

With the mixture's means mu_1..mu_K and its (isotropic) standard deviation s:

- each sample x belongs to its nearest mode k(x) = argmin_k ||x - mu_k|| (Euclidean; the
  first such mode on a tie);
- it is **high quality** if ||x - mu_k(x)|| <= 3 s;
- a mode is **captured** if at least one high-quality sample belongs to it;
- q_k = (high-quality samples of mode k) / (high-quality samples); the **reverse KL** is
  KL(q || uniform) = sum_k q_k log(K q_k), with 0 log 0 = 0 (in nats; 0 when the
  high-quality samples are spread evenly, log K when they all sit on one mode).

When no sample is high quality q is undefined; ``reverse_kl`` is then defined as log K,
its largest possible value (that of a total collapse onto one mode), so that a mean over
trials stays finite and such a trial counts as the worst. ``high_quality_count`` = 0 says
that this happened.
"""

import math

import numpy

from .. import backend
from ..errors import ConfigError, ShapeError
from ..validate import finite_number


def mode_coverage(samples, means, std):
    """Score 2-D (or any D) samples against the modes of a mixture.

    samples: (n, D) array of any backend (NumPy, CuPy, a list); means: (K, D); std: the
    modes' standard deviation (> 0). Returns Python numbers::

        {"modes": int,             # captured modes, 0..K
         "high_quality": float,    # fraction of the n samples within 3 std of their mode
         "reverse_kl": float,      # KL(q || uniform) over the K modes (see the module)
         "high_quality_count": int, "samples": int, "total_modes": int,
         "counts": [int] * K}      # high-quality samples per mode
    """
    where = "mode_coverage"
    x = _host(where, "samples", samples)
    mu = _host(where, "means", means)
    if x.ndim != 2 or not len(x):
        raise ShapeError(f"{where}: samples must be a non-empty (n, D) array, got shape "
                         f"{x.shape}")
    if mu.ndim != 2 or not len(mu) or mu.shape[1] != x.shape[1]:
        raise ShapeError(f"{where}: means must be a (K, {x.shape[1]}) array matching the "
                         f"samples' {x.shape[1]} coordinates, got shape {mu.shape}")
    std = finite_number(where, "std", std, above=0)
    if not (numpy.isfinite(x).all() and numpy.isfinite(mu).all()):
        raise ConfigError(f"{where}: samples and means must be finite (a generator that "
                          "produced NaN or inf has no mode coverage)")
    d2 = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2)          # (n, K)
    nearest = d2.argmin(axis=1)                                        # (n,)
    distance = numpy.sqrt(d2[numpy.arange(len(x)), nearest])
    good = distance <= 3 * std
    counts = numpy.bincount(nearest[good], minlength=len(mu))
    total = int(counts.sum())
    K = len(mu)
    if total == 0:
        reverse_kl = math.log(K)        # q undefined: counted as a total collapse
    else:
        q = counts[counts > 0] / total
        reverse_kl = max(0.0, float((q * numpy.log(K * q)).sum()))   # >= 0; rounding aside
    return {"modes": int((counts > 0).sum()), "high_quality": total / len(x),
            "reverse_kl": reverse_kl, "high_quality_count": total, "samples": int(len(x)),
            "total_modes": K, "counts": [int(c) for c in counts]}


def _host(where, name, value):
    """A float64 host copy of an array of any backend (the metric is a few thousand points:
    one explicit device -> host copy)."""
    try:
        array = backend.to_numpy(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{where}: {name} must be an array of numbers, got "
                          f"{type(value).__name__} ({error})") from None
    if array.dtype.kind not in "biuf":
        raise ConfigError(f"{where}: {name} must hold real numbers, got dtype {array.dtype}")
    return array.astype(numpy.float64)
