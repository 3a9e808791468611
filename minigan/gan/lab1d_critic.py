"""The WGAN critic in the 1-D lab, trained with and without the gradient penalty.

A critic D is trained alone against a fixed generator to maximise the Wasserstein-1 dual

    mean D(x_real) - mean D(x_fake)        (it minimises the negation, as the trainer does)

-- which only measures a distance if D is 1-Lipschitz. Without a constraint nothing stops
D: its values, and its slope D'(x), grow for as long as it trains. WGAN-GP (Gulrajani et
al. 2017) adds lambda * mean (|D'(x_hat)| - 1)^2 on interpolates x_hat = eps x_real +
(1 - eps) x_fake: the optimal critic has slope exactly 1 on the segments that join the two
distributions (their Proposition 1), and the penalty asks for that where the interpolates
lie -- between the modes. In one dimension ||grad_x D|| is |D'(x)|, computed on a grid with
``minigan.gan.input_gradient`` (D's first-order input gradient, no finite differences).

    fit = train_critic_1d(mlp_1d_discriminator(), Gaussian(2, 0.5), Gaussian(-2, 0.5))
    fit.slope      # D'(x) on fit.x: close to 1 between -2 and 2
"""

import dataclasses
import time

import numpy

from .. import backend
from ..errors import ConfigError
from ..nn.module import Module
from ..optim import Adam
from ..validate import finite_number, positive_int
from .lab1d import GaussianMixture
from .lab1d_train import DATA_STREAM, grid_for
from .objectives import get_objective
from .penalties import double_backprop, gradient_penalty_term, input_gradient


@dataclasses.dataclass
class CriticFit:
    """A critic trained against a fixed generator (host float64 arrays on the grid x):
    d = D(x), slope = D'(x), the two densities, the penalty's weight (0: none), and per
    step the Wasserstein estimate mean D(real) - mean D(fake) and the mean |D'| on that
    step's interpolates (``steps``, ``wasserstein``, ``interpolate_slope``)."""

    x: numpy.ndarray
    d: numpy.ndarray
    slope: numpy.ndarray
    p_data: numpy.ndarray
    p_g: numpy.ndarray
    gp_weight: float
    wasserstein: numpy.ndarray
    interpolate_slope: numpy.ndarray
    seconds: float = 0.0

    def mean_slope_between(self, low, high):
        """The mean |D'(x)| over the grid points in [low, high]."""
        inside = (self.x >= low) & (self.x <= high)
        return float(numpy.abs(self.slope[inside]).mean())


def train_critic_1d(D, data, fake, *, gp_weight=10.0, steps=2000, batch_size=256, lr=1e-3,
                    betas=(0.0, 0.9), seed=0, grid=None):
    """Train the critic D (N, 1) -> (N, 1) against the fixed distribution ``fake`` on
    ``data`` (both from this lab), with WGAN-GP's penalty of weight ``gp_weight`` (0: no
    penalty, the unconstrained critic). Adam with the paper's betas. Returns a CriticFit.
    """
    where = "train_critic_1d"
    for name, value in (("data", data), ("fake", fake)):
        if not isinstance(value, GaussianMixture):
            raise ConfigError(f"{where}: {name} must be a Gaussian or GaussianMixture from "
                              f"minigan.gan.lab1d, got {type(value).__name__}")
    if not isinstance(D, Module):
        raise ConfigError(f"{where}: D must be a minigan Module, got {type(D).__name__}")
    gp_weight = finite_number(where, "gp_weight", gp_weight, minimum=0)
    steps = positive_int(where, "steps", steps)
    batch_size = positive_int(where, "batch_size", batch_size)
    lr = finite_number(where, "lr", lr, above=0)
    x = grid_for(where, data, grid)
    dtype = D.parameters()[0].data.dtype
    rng = backend.default_rng(backend.derived_seed(seed, DATA_STREAM, 2))
    objective = get_objective("wgan")            # the critic's two terms (no clipping here)
    penalty = gradient_penalty_term(gp_weight) if gp_weight else None
    opt = Adam(D.parameters(), lr=lr, betas=betas)
    wasserstein, interpolate_slope = [], []
    start = time.perf_counter()
    for _ in range(steps):
        real, fakes = data.sample(batch_size, rng, dtype=dtype), fake.sample(batch_size, rng,
                                                                                dtype=dtype)
        D.zero_grad()
        loss_real, grad = objective.d_real(D.run_forward(real))
        D.run_backward(grad, need_input_grad=False)
        loss_fake, grad = objective.d_fake(D.run_forward(fakes))
        D.run_backward(grad, need_input_grad=False)
        eps = rng.random((batch_size, 1), dtype=dtype)
        x_hat = eps * real + (1 - eps) * fakes
        if penalty is None:   # only measure |D'| on the interpolates
            interpolate_slope.append(float(backend.xp.abs(input_gradient(D, x_hat)).mean()))
        else:
            interpolate_slope.append(double_backprop(D, x_hat, penalty).mean_norm)
        opt.step()
        wasserstein.append(-(loss_real + loss_fake))
    seconds = time.perf_counter() - start
    grid_points = backend.to_device(x.reshape(-1, 1)).astype(dtype)
    return CriticFit(
        x=x, d=backend.to_numpy(D.run_forward(grid_points)).astype(numpy.float64).ravel(),
        slope=backend.to_numpy(input_gradient(D, grid_points)).astype(numpy.float64).ravel(),
        p_data=data.pdf(x), p_g=fake.pdf(x), gp_weight=gp_weight,
        wasserstein=numpy.array(wasserstein), interpolate_slope=numpy.array(interpolate_slope),
        seconds=seconds)
