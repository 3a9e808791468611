"""Training in the 1-D GAN lab: a GAN run with minigan's own ``Trainer`` and snapshots
of the theory along the way, and a discriminator trained alone against a fixed generator
(to watch D approach D* = p_data / (p_data + p_g)).

    history = train_gan_1d(Gaussian(2, 0.5), G, D, steps=2000, snapshot_steps=[0, 500, 2000])
    history.snapshots[-1].jsd, history.snapshots[-1].value     # JSD estimate, V(D, G)

    fit = train_discriminator_1d(D, data=Gaussian(0, 1), fake=Gaussian(1.5, 0.7))
    fit.max_error          # max |D - D*| where p_data + p_g is not negligible

Host arrays (NumPy float64) come out; the training runs on the active backend.
"""

import dataclasses
import math

import numpy

from .. import backend
from ..errors import ConfigError
from ..nn.module import Module
from ..optim import Adam
from ..validate import finite_number, is_int, positive_int
from .lab1d import (
    GaussianMixture,
    discriminator_on_grid,
    integrate,
    jensen_shannon,
    kde_density,
    make_grid,
    mode_coverage,
    optimal_discriminator,
    relevant_region,
    value_from_logits,
)
from .objectives import get_objective
from .trainer import Trainer

DATA_STREAM = 1_000_003  # seeds for the real batches, apart from the Trainer's noise


@dataclasses.dataclass
class Snapshot:
    """The state of a 1-D GAN run after ``step`` generator steps (host float64 arrays).

    d: D(x) = sigmoid(logit) on the grid; p_g: the KDE of ``n_eval`` generator samples on
    the grid; d_star: p_data / (p_data + p_g) for that estimate; value: V(D, G) estimated
    on n_eval real and n_eval fake samples; jsd: JSD(p_data || p_g) on the grid (so
    -log 4 + 2 jsd is V(D*, G), the best any D could do against this G); coverage: per
    mode of a mixture, the fraction of samples within 2 std of it; loss_d, loss_g,
    d_real, d_fake: means of the Trainer's numbers over the steps since the last
    snapshot (NaN at step 0)."""

    step: int
    d: numpy.ndarray
    p_g: numpy.ndarray
    d_star: numpy.ndarray
    value: float
    jsd: float
    coverage: numpy.ndarray
    loss_d: float
    loss_g: float
    d_real: float
    d_fake: float
    samples: numpy.ndarray


@dataclasses.dataclass
class History:
    """A 1-D GAN run: the grid, p_data on it, the snapshots, every step's Trainer record,
    the trainer itself (its G and D are the trained networks) and the wall time."""

    x: numpy.ndarray
    p_data: numpy.ndarray
    snapshots: list
    records: list
    trainer: Trainer
    seconds: float = 0.0

    @property
    def final(self):
        return self.snapshots[-1]

    def series(self, name):
        """(steps, values) of one snapshot field over the run, as host arrays."""
        return (numpy.array([s.step for s in self.snapshots]),
                numpy.array([getattr(s, name) for s in self.snapshots]))


def grid_for(where, data, grid):
    """The grid a 1-D run compares densities on: ``grid`` (checked: increasing, 1-d, at
    least 3 points), or for None 601 points around ``data``'s support."""
    if grid is None:
        lo, hi = data.support(4.0)
        pad = 0.25 * (hi - lo)
        return make_grid(lo - pad, hi + pad, 601)
    x = numpy.asarray(backend.to_numpy(grid), dtype=numpy.float64)
    if x.ndim != 1 or x.size < 3 or not numpy.all(numpy.diff(x) > 0):
        raise ConfigError(f"{where}: grid must be an increasing 1-d array of at least 3 "
                          f"points, got shape {x.shape}")
    return x


def _check_data(where, data):
    if not isinstance(data, GaussianMixture):
        raise ConfigError(f"{where}: data must be a Gaussian or GaussianMixture from "
                          f"minigan.gan.lab1d, got {type(data).__name__}")


def _snapshot_steps(where, snapshot_steps, steps):
    if snapshot_steps is None:
        return sorted({0, *(round(steps * k / 6) for k in range(1, 7))})
    try:
        wanted = sorted({int(s) for s in snapshot_steps if is_int(s)})
    except TypeError:
        raise ConfigError(f"{where}: snapshot_steps must be a sequence of ints") from None
    if len(wanted) != len(list(snapshot_steps)) or not wanted \
            or wanted[0] < 0 or wanted[-1] > steps:
        raise ConfigError(f"{where}: snapshot_steps must be distinct ints in [0, steps={steps}], "
                          f"got {list(snapshot_steps)!r}")
    return wanted


def evaluate_1d(trainer, data, x, p_data, n_eval=4000, seed=0, bandwidth=None):
    """A ``Snapshot``'s fields (without the loss means) for the trainer's G and D now.
    bandwidth: the KDE's (None: Silverman's rule)."""
    dtype = trainer.G.parameters()[0].data.dtype
    fakes = trainer.sample(n_eval)
    reals = data.sample(n_eval, backend.default_rng(seed), dtype=dtype)
    value = value_from_logits(trainer.D.run_forward(reals), trainer.D.run_forward(fakes))
    host = backend.to_numpy(fakes).astype(numpy.float64).reshape(-1)
    p_g = kde_density(host, x, bandwidth)
    return dict(d=discriminator_on_grid(trainer.D, x, context=fakes[:256]), p_g=p_g,
                d_star=optimal_discriminator(p_data, p_g), value=value,
                jsd=jensen_shannon(p_data, p_g, x), coverage=mode_coverage(host, data),
                samples=host)


def train_gan_1d(data, G, D, *, steps=2000, batch_size=128, snapshot_steps=None,
                 loss="non-saturating", lr_d=1e-3, lr_g=1e-3, betas=(0.5, 0.999),
                 real_label=1.0, d_steps=1, seed=0, grid=None, n_eval=4000,
                 bandwidth=None, **trainer_options):
    """Train G against D on ``data`` with ``minigan.gan.Trainer`` and return a ``History``.

    Every step draws a fresh real batch (batch_size, 1) from ``data`` and calls
    ``trainer.step``. At each of ``snapshot_steps`` (default: 0 and six evenly spaced
    steps up to ``steps``) the run is measured: D(x) and D*(x) on the grid, the KDE of
    p_g, V(D, G), JSD(p_data || p_g), the mode coverage (p_g: a KDE of ``n_eval`` samples
    with ``bandwidth``, None for Silverman's rule -- which over-smooths a multimodal
    p_g: give a fixed width for mixtures). real_label defaults to 1 here
    (no label smoothing), so that D's target is exactly D*; other Trainer options
    (fake_label, instance_noise, ...) pass through ``trainer_options``.
    """
    import time

    where = "train_gan_1d"
    _check_data(where, data)
    steps = positive_int(where, "steps", steps)
    batch_size = positive_int(where, "batch_size", batch_size)
    if batch_size < 2:
        raise ConfigError(f"{where}: batch_size must be >= 2, got {batch_size}")
    n_eval = positive_int(where, "n_eval", n_eval)
    wanted = _snapshot_steps(where, snapshot_steps, steps)
    x = grid_for(where, data, grid)
    p_data = data.pdf(x)
    trainer = Trainer(G, D, loss=loss, lr_d=lr_d, lr_g=lr_g, betas=betas,
                      real_label=real_label, d_steps=d_steps, seed=seed, **trainer_options)
    dtype = G.parameters()[0].data.dtype
    data_rng = backend.default_rng(backend.derived_seed(seed, DATA_STREAM))
    snapshots, records, since = [], [], []
    start = time.perf_counter()
    for step in range(steps + 1):
        if step in wanted:
            snap = evaluate_1d(trainer, data, x, p_data, n_eval, seed=seed + step,
                               bandwidth=bandwidth)
            means = {k: (float(numpy.mean([r[k] for r in since])) if since else math.nan)
                     for k in ("loss_d", "loss_g", "d_real", "d_fake")}
            snapshots.append(Snapshot(step=step, **snap, **means))
            since = []
        if step == steps:
            break
        record = trainer.step(data.sample(batch_size, data_rng, dtype=dtype))
        records.append(record)
        since.append(record)
    return History(x=x, p_data=p_data, snapshots=snapshots, records=records, trainer=trainer,
                   seconds=time.perf_counter() - start)


@dataclasses.dataclass
class DiscriminatorFit:
    """D trained alone against a fixed generator (host float64 arrays on the grid x):
    d = D(x), d_star = p_data / (p_data + p_g), the densities, the region where
    p_data + p_g >= 1% of its peak, max |d - d_star| over it, the density-weighted error
    int |d - d_star| (p_data + p_g) / 2 dx (where the samples are), and D's losses."""

    x: numpy.ndarray
    d: numpy.ndarray
    d_star: numpy.ndarray
    p_data: numpy.ndarray
    p_g: numpy.ndarray
    region: numpy.ndarray
    max_error: float
    weighted_error: float
    losses: list
    seconds: float = 0.0


def train_discriminator_1d(D, data, fake, *, steps=3000, batch_size=512, lr=2e-3,
                           final_lr=2e-5, betas=(0.9, 0.999), seed=0, grid=None,
                           n_kde=20000, latent_dim=None):
    """Train D alone to (near) convergence against a FIXED generator and compare it
    with D* = p_data / (p_data + p_g).

    This is the inner maximisation of the GAN game, max_D V(D, G) for a frozen G, by
    the discriminator half of a ``Trainer`` step: D minimises BCE(D(x_real), 1) +
    BCE(D(x_fake), 0) = -V(D, G) on fresh batches, with Adam whose learning rate decays
    geometrically from ``lr`` to ``final_lr`` (so the minibatch noise dies down and D
    settles). ``fake`` is the fixed generator: a distribution from this lab (then p_g is
    exact) or a frozen generator Module (fresh z each step, its weights untouched; then
    p_g is a KDE of ``n_kde`` of its samples). Returns a ``DiscriminatorFit``.
    """
    import time

    where = "train_discriminator_1d"
    _check_data(where, data)
    if not isinstance(D, Module):
        raise ConfigError(f"{where}: D must be a minigan Module, got {type(D).__name__}")
    if not isinstance(fake, (GaussianMixture, Module)):
        raise ConfigError(f"{where}: fake must be a fixed generator: a Gaussian / "
                          f"GaussianMixture or a generator Module, got {type(fake).__name__}")
    steps = positive_int(where, "steps", steps)
    batch_size = positive_int(where, "batch_size", batch_size)
    lr = finite_number(where, "lr", lr, above=0)
    final_lr = finite_number(where, "final_lr", final_lr, above=0, maximum=lr)
    x = grid_for(where, data, grid)
    dtype = D.parameters()[0].data.dtype
    rng = backend.default_rng(backend.derived_seed(seed, DATA_STREAM, 1))
    if isinstance(fake, Module):
        latent_dim = latent_dim or fake.layers[0].in_features

        def draw(n):
            z = rng.standard_normal((n, latent_dim), dtype=dtype)
            return fake.run_forward(z)  # G is only run forward: frozen
    else:
        def draw(n):
            return fake.sample(n, rng, dtype=dtype)

    objective = get_objective("non-saturating")
    opt = Adam(D.parameters(), lr=lr, betas=betas)
    decay = (final_lr / lr) ** (1.0 / max(steps - 1, 1))
    losses = []
    start = time.perf_counter()
    for step in range(steps):
        opt.lr = lr * decay ** step
        real, fakes = data.sample(batch_size, rng, dtype=dtype), draw(batch_size)
        D.zero_grad()
        loss_real, grad = objective.d_real(D.run_forward(real), 1.0)
        D.run_backward(grad, need_input_grad=False)
        loss_fake, grad = objective.d_fake(D.run_forward(fakes), 0.0)
        D.run_backward(grad, need_input_grad=False)
        opt.step()
        losses.append(loss_real + loss_fake)
    seconds = time.perf_counter() - start
    p_data = data.pdf(x)
    if isinstance(fake, Module):
        p_g = kde_density(backend.to_numpy(draw(n_kde)), x)
        context = draw(batch_size)
    else:
        p_g = fake.pdf(x)
        context = fake.sample(batch_size, rng, dtype=dtype)
    d = discriminator_on_grid(D, x, context=context)
    d_star = optimal_discriminator(p_data, p_g)
    region = relevant_region(p_data, p_g)
    return DiscriminatorFit(x=x, d=d, d_star=d_star, p_data=p_data, p_g=p_g, region=region,
                            max_error=float(numpy.max(numpy.abs(d - d_star)[region])),
                            weighted_error=integrate(numpy.abs(d - d_star) * (p_data + p_g) / 2,
                                                     x),
                            losses=losses, seconds=seconds)
