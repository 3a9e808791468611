"""A 1-D GAN lab: data with exact densities, tiny MLPs, and the theory of the GAN game
(Goodfellow et al. 2014) computed on a grid, so it can be compared with real runs.

In one dimension everything the GAN paper talks about can be *computed*:

    V(D, G) = E_{x~p_data}[log D(x)] + E_{z~p_z}[log(1 - D(G(z)))]          (value function)
    D*(x)   = p_data(x) / (p_data(x) + p_g(x))              (the best D for a fixed G)
    V(D*, G) = -log 4 + 2 JSD(p_data || p_g)     >= -log 4, with equality iff p_g = p_data
    JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m),  m = (p + q) / 2,  0 <= JSD <= log 2

This module holds the pieces that do not train anything:

- ``Gaussian(mean, std)`` and ``GaussianMixture(means, stds, weights)``: ``.sample(n, rng)``
  gives an (n, 1) array on the active backend (the data a ``Trainer`` sees), ``.pdf(x)``
  the exact density on the host (NumPy, float64) for plots and theory;
- ``mlp_1d_generator`` / ``mlp_1d_discriminator``: small MLPs, (N, latent_dim) -> (N, 1)
  samples and (N, 1) -> (N, 1) logits;
- the theory on a grid ``x`` (host NumPy, float64): ``kde_density`` (Gaussian kernel,
  Silverman's bandwidth) and ``histogram_density`` estimate p_g from samples;
  ``optimal_discriminator``, ``jensen_shannon``, ``value_on_grid`` (V as an integral)
  and ``value_from_logits`` (V as a sample mean, from D's logits), ``mode_coverage``;
- ``discriminator_on_grid``: D(x) = sigmoid(logit) on the grid, also for a D with a
  minibatch-statistics layer (evaluated with the statistic of a context batch).

The grid theory is written in ``lab1d_theory`` and re-exported here
(``lab1d.kde_density`` etc.); training lives in ``lab1d_train``. The lab's networks
default to float64: they are tiny (a float64 step costs about what a float32 one does
here) and the comparisons with the theory then carry no rounding questions.
"""

import math
import numbers

import numpy

from .. import backend
from .. import functional as F
from ..errors import ConfigError
from ..nn import Dense, LeakyReLU, Sequential
from ..validate import (
    check_floating,
    finite_number,
    float_dtype,
    is_int,
    positive_int,
    true_or_false,
)
from .lab1d_theory import (  # noqa: F401 (re-exported: the lab's theory lives there)
    JSD_MAX,
    V_OPTIMUM,
    histogram_density,
    host_points,
    host_samples,
    integrate,
    jensen_shannon,
    kde_density,
    make_grid,
    optimal_discriminator,
    relevant_region,
    silverman_bandwidth,
    value_from_logits,
    value_on_grid,
)

LEAKY_SLOPE = 0.2
DEFAULT_DTYPE = "float64"


# -- data ------------------------------------------------------------------------------------

def _rng(where, rng):
    """A backend generator: ``rng`` itself, a new one seeded with an int, or the global one."""
    if rng is None:
        return backend.global_rng()
    if is_int(rng):
        return backend.default_rng(int(rng))
    if not (hasattr(rng, "standard_normal") and hasattr(rng, "random")):
        raise ConfigError(f"{where}: rng must be None, an int seed or a generator from "
                          f"minigan.backend.default_rng, got {type(rng).__name__}")
    return rng


class GaussianMixture:
    """p(x) = sum_k w_k N(x; mu_k, sigma_k^2), a mixture of 1-D Gaussians.

    means, stds: sequences of K finite numbers (stds > 0); weights: K positive numbers
    (normalised to sum 1; None: equal weights). ``sample(n, rng)`` draws the component
    index, then the Gaussian, on the active backend; ``pdf(x)`` is the exact density on
    the host. ``mean`` and ``std`` are the mixture's overall moments.
    """

    def __init__(self, means, stds, weights=None):
        where = type(self).__name__
        means = self._numbers(where, "means", means)
        stds = self._numbers(where, "stds", stds)
        if len(stds) != len(means):
            raise ConfigError(f"{where}: means and stds must have the same length, got "
                              f"{len(means)} means and {len(stds)} stds")
        if any(s <= 0 for s in stds):
            raise ConfigError(f"{where}: every std must be > 0, got {stds}")
        if weights is None:
            weights = [1.0] * len(means)
        weights = self._numbers(where, "weights", weights)
        if len(weights) != len(means):
            raise ConfigError(f"{where}: weights must have one entry per component "
                              f"({len(means)}), got {len(weights)}")
        if any(w <= 0 for w in weights):
            raise ConfigError(f"{where}: every weight must be > 0, got {weights}")
        total = sum(weights)
        self.means, self.stds = tuple(means), tuple(stds)
        self.weights = tuple(w / total for w in weights)

    @staticmethod
    def _numbers(where, name, values):
        if isinstance(values, numbers.Real):
            values = [values]
        try:
            values = list(values)
        except TypeError:
            raise ConfigError(f"{where}: {name} must be a sequence of numbers, "
                              f"got {values!r}") from None
        if not values:
            raise ConfigError(f"{where}: {name} must not be empty")
        return [finite_number(where, f"{name}[{i}]", v) for i, v in enumerate(values)]

    @property
    def mean(self):
        return sum(w * m for w, m in zip(self.weights, self.means))

    @property
    def std(self):
        second = sum(w * (s * s + m * m) for w, m, s in zip(self.weights, self.means, self.stds))
        return math.sqrt(max(second - self.mean ** 2, 0.0))

    def pdf(self, x):
        """The exact density at the points x (any shape), float64 on the host."""
        x = host_points(f"{type(self).__name__}.pdf", x)
        out = numpy.zeros_like(x)
        for w, m, s in zip(self.weights, self.means, self.stds):
            out += w * numpy.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        return out

    def sample(self, n, rng=None, dtype=DEFAULT_DTYPE):
        """n samples, an (n, 1) array of the active backend in ``dtype``.

        rng: a generator from ``minigan.backend.default_rng``, an int seed, or None
        (the global generator)."""
        where = f"{type(self).__name__}.sample"
        n = positive_int(where, "n", n)
        rng = _rng(where, rng)
        dtype = float_dtype(where, dtype)
        xp = backend.xp
        z = rng.standard_normal((n, 1), dtype=dtype)
        if len(self.means) == 1:
            return z * self.stds[0] + self.means[0]
        u = rng.random((n, 1), dtype=dtype)
        edges = xp.asarray(numpy.cumsum(self.weights)[:-1].reshape(1, -1).astype(dtype))
        component = (u >= edges).sum(axis=1)  # index k with cum_{k-1} <= u < cum_k
        means = xp.asarray(numpy.asarray(self.means, dtype=dtype))[component]
        stds = xp.asarray(numpy.asarray(self.stds, dtype=dtype))[component]
        return z * stds[:, None] + means[:, None]

    def support(self, k=4.0):
        """(lo, hi): every component's mean -/+ k standard deviations."""
        return (min(m - k * s for m, s in zip(self.means, self.stds)),
                max(m + k * s for m, s in zip(self.means, self.stds)))

    def __repr__(self):
        return (f"GaussianMixture(means={list(self.means)}, stds={list(self.stds)}, "
                f"weights={[round(w, 6) for w in self.weights]})")


class Gaussian(GaussianMixture):
    """N(mean, std^2) in 1-D: a one-component ``GaussianMixture``."""

    def __init__(self, mean=0.0, std=1.0):
        super().__init__([mean], [std])

    def __repr__(self):
        return f"Gaussian(mean={self.means[0]}, std={self.stds[0]})"


# -- networks --------------------------------------------------------------------------------

def _hidden(where, hidden):
    if is_int(hidden):
        hidden = (hidden,)
    if not isinstance(hidden, (tuple, list)) or not all(is_int(w) and w > 0 for w in hidden):
        raise ConfigError(f"{where}: hidden must be a tuple of positive ints (layer widths), "
                          f"got {hidden!r}")
    return tuple(int(w) for w in hidden)


def mlp_1d_generator(latent_dim=4, hidden=(32, 32), *, dtype=DEFAULT_DTYPE, rng=None):
    """G: z (N, latent_dim) -> x (N, 1), a ``Sequential``::

        Dense(latent_dim, hidden[0]), LeakyReLU(0.2), ..., Dense(hidden[-1], 1)

    No output activation: the samples live on the whole real line. ``hidden`` may be
    empty (an affine map: G can then only produce Gaussians). Glorot-uniform weights.
    """
    where = "mlp_1d_generator"
    latent_dim = positive_int(where, "latent_dim", latent_dim)
    hidden = _hidden(where, hidden)
    dtype = float_dtype(where, dtype)
    return Sequential(*_stack(latent_dim, hidden, dtype, rng))


def mlp_1d_discriminator(hidden=(32, 32), minibatch_stddev=False, *, dtype=DEFAULT_DTYPE,
                         rng=None):
    """D: x (N, 1) -> logits (N, 1), a ``Sequential``::

        Dense(1, hidden[0]), LeakyReLU(0.2), ..., Dense(hidden[-1], 1)

    minibatch_stddev=True inserts ``minigan.nn.MinibatchStdDev()`` right after the
    first hidden activation: it appends the batch's standard deviation of those features
    as one more feature (so the next Dense takes hidden[0] + 1 inputs). D can then tell a
    batch of near-identical samples (a collapsed G) from a real batch -- the classic cure
    for mode collapse (Salimans et al. 2016's minibatch discrimination, in the simple
    form of Karras et al. 2018). Such a D judges batches, not single points: evaluate
    it on a grid with ``discriminator_on_grid(D, x, context=...)``.
    """
    where = "mlp_1d_discriminator"
    hidden = _hidden(where, hidden)
    true_or_false(where, "minibatch_stddev", minibatch_stddev)
    if minibatch_stddev and not hidden:
        raise ConfigError(f"{where}: minibatch_stddev=True needs at least one hidden layer")
    dtype = float_dtype(where, dtype)
    layers = _stack(1, hidden, dtype, rng)
    if minibatch_stddev:
        from ..nn import MinibatchStdDev  # written alongside: imported when asked for

        first_dense = layers[2]
        layers[2] = Dense(first_dense.in_features + 1, first_dense.out_features, dtype=dtype,
                          rng=rng)
        layers.insert(2, MinibatchStdDev())
    return Sequential(*layers)


def _stack(in_features, hidden, dtype, rng):
    layers = []
    for width in hidden:
        layers += [Dense(in_features, width, dtype=dtype, rng=rng), LeakyReLU(LEAKY_SLOPE)]
        in_features = width
    layers.append(Dense(in_features, 1, dtype=dtype, rng=rng))
    return layers


def _minibatch_layer_index(D):
    """The index of the first batch-statistics layer in a Sequential D, or None."""
    for i, layer in enumerate(getattr(D, "layers", ())):
        if type(layer).__name__ == "MinibatchStdDev":
            return i
    return None


def discriminator_on_grid(D, x, context=None):
    """D(x) = sigmoid(D's logit) at each point of x (a 1-D grid, host or device), as a
    float64 host array of x's length.

    A D with a ``MinibatchStdDev`` layer scores a point *within a batch*: the grid itself
    is no meaningful batch, so such a D needs ``context``, a batch (N, 1) of samples
    (e.g. the generator's): the layers before the statistic run on the grid, the
    statistic is the one of the context batch's features, the rest runs on the grid.
    That is D(x) as a single point among the generator's samples sees it.
    """
    where = "discriminator_on_grid"
    grid = host_points(where, x).reshape(-1, 1)
    dtype = D.parameters()[0].data.dtype
    points = backend.xp.asarray(grid.astype(dtype))
    index = _minibatch_layer_index(D)
    if index is None:
        logits = D.forward(points)
    else:
        if context is None:
            raise ConfigError(f"{where}: this D has a MinibatchStdDev layer (index {index}) "
                              "and scores points within a batch: pass context=, a batch "
                              "(N, 1) of samples whose statistic to use")
        check_floating(where, "context", context, "(N, 1)")
        head, layer, tail = D[:index], D[index], D[index + 1:]
        statistic = layer.forward(head.forward(context.astype(dtype)))[:1, -1:]
        features = head.forward(points)
        columns = backend.xp.broadcast_to(statistic, (features.shape[0], 1))
        logits = tail.forward(backend.xp.concatenate([features, columns], axis=1))
    return backend.to_numpy(F.sigmoid_forward(logits)[0]).astype(numpy.float64).reshape(-1)


def mode_coverage(samples, mixture, width=2.0):
    """For each component k of the mixture: the fraction of the samples within
    mu_k +- width * sigma_k. A G that covers every mode gets about w_k * 0.95 (width 2)
    on each; a G collapsed onto one mode gets ~1 there and ~0 elsewhere. Returns a
    float64 host array (K,)."""
    where = "mode_coverage"
    if not isinstance(mixture, GaussianMixture):
        raise ConfigError(f"{where}: mixture must be a Gaussian or GaussianMixture, "
                          f"got {type(mixture).__name__}")
    width = finite_number(where, "width", width, above=0)
    s = host_samples(where, samples)
    return numpy.array([numpy.mean(numpy.abs(s - m) <= width * sd)
                        for m, sd in zip(mixture.means, mixture.stds)])
