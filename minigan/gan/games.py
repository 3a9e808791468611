"""Two-player games small enough to see: the bilinear game and the Dirac-GAN.

``bilinear_game``: f(x, y) = x y, x minimises, y maximises; the Nash equilibrium is (0, 0).

    simultaneous   x' = x - lr y,   y' = y + lr x        |(x', y')| = sqrt(1 + lr^2) |(x, y)|
    alternating    x' = x - lr y,   y' = y + lr x'       x^2 + y^2 - lr x y is conserved:
                                                          closed orbits (for lr < 2)

``dirac_gan`` (Mescheder, Geiger, Nowozin, "Which Training Methods for GANs do actually
Converge?", ICML 2018): p_data = delta_0, G = delta_theta, D_psi(x) = psi x,
L(theta, psi) = f(theta psi) + f(0), computed with minigan's own pieces: D is a
``Dense(1, 1, bias=False)`` (its weight is psi), G one ``Parameter`` (theta), the standard
loss minigan's ``BCEWithLogits``, R1 ``r1_penalty`` and WGAN-GP ``gradient_penalty`` by
handwritten double backprop, the updates ``SGD``; G's gradient reaches theta through
``D.backward`` with D frozen, as in a real GAN step. The closed forms (the vector field,
the Jacobian's eigenvalues ±i f'(0), what the regularisers do to them) are in
``minigan.gan.games_theory``, re-exported here. The page: docs/game.md.
"""

import numpy

from .. import backend
from ..errors import ConfigError
from ..losses import BCEWithLogits
from ..nn.dense import Dense
from ..nn.parameter import Parameter
from ..optim import SGD
from ..validate import finite_number, is_int, positive_int
from .games_theory import (
    F_PRIME_0,
    F_SECOND_0,
    LOSSES,
    check_loss,
    check_regularisers,
    dirac_eigenvalues,
    dirac_jacobian,
    dirac_vector_field,
    f_prime,
    step_growth,
)
from .penalties import gradient_penalty, r1_penalty

METHODS = ("simultaneous", "alternating")
"""simultaneous: both players step from the same point; alternating: D steps first, then G
steps against the updated D (minigan's Trainer order)."""

__all__ = ["F_PRIME_0", "F_SECOND_0", "LOSSES", "METHODS", "bilinear_game", "dirac_gan",
           "dirac_eigenvalues", "dirac_jacobian", "dirac_vector_field", "f_prime",
           "step_growth"]


def _check_common(where, method, steps, lr, start):
    if method not in METHODS:
        raise ConfigError(f"{where}: method must be one of {', '.join(METHODS)}, "
                          f"got {method!r}")
    steps = positive_int(where, "steps", steps)
    lr = finite_number(where, "lr", lr, above=0.0)
    if (isinstance(start, (str, bytes)) or not hasattr(start, "__len__")
            or len(start) != 2):
        raise ConfigError(f"{where}: start must be a pair of numbers (theta, psi), "
                          f"got {start!r}")
    start = tuple(finite_number(where, f"start[{i}]", s) for i, s in enumerate(start))
    return steps, lr, start


def bilinear_game(method="simultaneous", steps=100, lr=0.1, start=(1.0, 1.0)):
    """Gradient steps on f(x, y) = x y (x descends, y ascends): the (steps + 1, 2) float64
    NumPy trajectory of (x, y), row 0 the start. Plain arithmetic, no layers: the game
    every GAN dynamics argument starts from (its Jacobian has eigenvalues ±i)."""
    steps, lr, (x, y) = _check_common("bilinear_game", method, steps, lr, start)
    path = numpy.empty((steps + 1, 2))
    path[0] = x, y
    for i in range(1, steps + 1):
        if method == "simultaneous":
            x, y = x - lr * y, y + lr * x
        else:
            x = x - lr * y
            y = y + lr * x
        path[i] = x, y
    return path


class _DiracGAN:
    """The two players and their gradients at the current (theta, psi), on the backend."""

    def __init__(self, start, loss, r1, gp, gp_target, sigma, noise_samples, seed, lr):
        xp = backend.xp
        self.loss, self.r1, self.gp, self.gp_target, self.sigma = loss, r1, gp, gp_target, sigma
        self.n = noise_samples if sigma > 0 else 1
        self.D = Dense(1, 1, bias=False, dtype="float64")
        self.D.weight.data[...] = start[1]
        self.theta = Parameter(xp.full((1, 1), start[0], dtype=xp.float64))
        self.opt_d = SGD([self.D.weight], lr=lr)
        self.opt_g = SGD([self.theta], lr=lr)
        self.bce = BCEWithLogits()
        self.rng = backend.default_rng(seed)

    def _noise(self):
        xp = backend.xp
        if self.sigma == 0:
            return xp.zeros((self.n, 1), dtype=xp.float64)
        return self.sigma * self.rng.standard_normal((self.n, 1), dtype=xp.float64)

    def _output_grad(self, out, target):
        """d term / d D's output for one of D's terms -f(±out): BCE(out, target) for the
        GAN losses (target 1 on fakes, 0 on reals); for the WGAN -mean(out) on fakes
        (target 1) and +mean(out) on reals (target 0)."""
        if self.loss == "wgan":
            sign = -1.0 if target == 1.0 else 1.0
            return backend.xp.full(out.shape, sign / out.shape[0], dtype=out.dtype)
        self.bce(out, target)
        return self.bce.backward()

    def d_grad(self):
        """dL_D/dpsi into D.weight.grad: D minimises -L = BCE(D(real), 0) + BCE(D(fake), 1)
        (its logit says "fake": Mescheder et al.'s sign) plus the penalties."""
        xp = backend.xp
        D = self.D
        D.zero_grad()
        real = self._noise()
        fake = self.theta.data + self._noise()
        for x, target in ((real, 0.0), (fake, 1.0)):
            D.backward(self._output_grad(D(x), target), need_input_grad=False)
        if self.r1 > 0:
            r1_penalty(D, real, gamma=self.r1)
        if self.gp > 0:
            eps = self.rng.random((self.n, 1), dtype=xp.float64)
            gradient_penalty(D, eps * fake + (1 - eps) * real, weight=self.gp,
                             target=self.gp_target)

    def g_grad(self):
        """dL_G/dtheta into theta.grad, through D's backward with D frozen. G minimises
        L - f(0), minus D's fake term (-BCE(D(fake), 1) standard, mean D(fake) wgan), or
        BCE(D(fake), 0) = -f(-theta psi) (non-saturating)."""
        D = self.D.freeze()
        self.theta.zero_grad()
        out = D(self.theta.data + self._noise())
        if self.loss == "non-saturating":
            g_out = self._output_grad(out, 0.0)
        else:
            g_out = -self._output_grad(out, 1.0)
        g_x = D.backward(g_out)                      # the gradient reaches G through D
        self.theta.grad += g_x.sum(axis=0, keepdims=True)   # every sample is G's theta
        D.unfreeze()

    def state(self):
        return backend.xp.concatenate([self.theta.data.reshape(1), self.D.weight.data.reshape(1)])


def dirac_gan(method="simultaneous", steps=5000, lr=0.1, start=(1.0, 1.0), r1=0.0, *,
              loss="standard", gp=0.0, gp_target=1.0, instance_noise=0.0,
              noise_samples=256, seed=0):
    """Train the Dirac-GAN by gradient descent; returns the (steps + 1, 2) float64 NumPy
    trajectory of (theta, psi), row 0 = ``start``.

    method: "simultaneous" (both gradients at the same point, then both steps) or
    "alternating" (a D step, then a G step against the new D). lr: the step size h of
    both players (plain SGD). r1: R1's gamma (gamma/2 E||grad_x D(real)||^2 on the real
    samples). loss: "standard" (f(t) = -log(1 + e^-t), G minimax), "non-saturating" or
    "wgan" (f(t) = t). gp, gp_target: WGAN-GP's gp * E(||grad_x D(x_hat)|| - gp_target)^2
    on interpolates. instance_noise: the std of N(0, sigma^2) noise added to real and
    fake inputs, ``noise_samples`` of each per step, from the backend's generator seeded
    with ``seed`` (without noise the game is exact and deterministic).

    Unregularised, simultaneous steps spiral out (lr 0.1, 5,000 steps from (1, 1): the
    distance grows from 1.41 to about 3.6) and alternating steps circle (about 1.41);
    R1 with gamma > 0 converges to (0, 0). Runs on the active backend; the trajectory
    comes back to the host once, at the end.
    """
    where = "dirac_gan"
    steps, lr, start = _check_common(where, method, steps, lr, start)
    check_loss(where, loss)
    r1, gp, gp_target, sigma = check_regularisers(where, r1, gp, gp_target, instance_noise)
    noise_samples = positive_int(where, "noise_samples", noise_samples)
    if seed is not None and not is_int(seed):
        raise ConfigError(f"{where}: seed must be an int or None, got {seed!r}")
    game = _DiracGAN(start, loss, r1, gp, gp_target, sigma, noise_samples, seed, lr)
    xp = backend.xp
    path = xp.empty((steps + 1, 2), dtype=xp.float64)
    path[0] = game.state()
    for i in range(1, steps + 1):
        game.d_grad()
        if method == "simultaneous":
            game.g_grad()                  # at the same (theta, psi) as D's gradient
            game.opt_d.step()
        else:
            game.opt_d.step()
            game.g_grad()                  # against the updated D
        game.opt_g.step()
        path[i] = game.state()
    return numpy.asarray(backend.to_numpy(path), dtype=numpy.float64)
