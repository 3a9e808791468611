"""The Dirac-GAN's theory in closed form (host NumPy, float64): vector field, Jacobian at
the equilibrium and its eigenvalues (Mescheder, Geiger, Nowozin, ICML 2018).

The game: p_data = delta_0, G = delta_theta (one parameter), D_psi(x) = psi x (one weight),

    L(theta, psi) = E[f(D_psi(G))] + E[f(-D_psi(x_real))] = f(theta psi) + f(0),

G minimises L, D maximises it. f(t) = -log(1 + e^-t) is the standard GAN (minigan's BCE:
in this sign convention D_psi is the logit that x is *fake*), f(t) = t the WGAN. The
non-saturating G minimises -f(-theta psi) instead. Simultaneous gradient descent follows

    v(theta, psi) = (-psi f'(theta psi),  theta f'(theta psi) - gamma psi - dP/dpsi)
    f'(t) = 1 / (1 + e^t) (= 1/2 at 0),  f''(t) = -f'(t)(1 - f'(t)) (= -1/4 at 0)

with R1's penalty gamma/2 psi^2 (||grad_x D|| = |psi| everywhere) and WGAN-GP's
P = lambda (|psi| - t)^2. Instance noise eps ~ N(0, sigma^2) on both inputs turns
L into E f(psi (theta + eps1)) + E f(-psi eps2) (the expectations here by Gauss-Hermite).

At the equilibrium (0, 0) the Jacobian is

    J = [[0, -f'(0)], [f'(0), -gamma - 2 lambda [t = 0] + 2 sigma^2 f''(0)]]

eigenvalues ±i f'(0) unregularised (a centre: no gradient method converges),
(-gamma ± sqrt(gamma^2 - 4 f'(0)^2)) / 2 with R1, sigma^2 f''(0) ± sqrt(sigma^4 f''(0)^2
- f'(0)^2) with instance noise: real parts < 0, locally convergent for small steps.
WGAN-GP with t > 0 has no Jacobian there: its gradient 2 lambda (|psi| - t) sign(psi) jumps
by 4 lambda t across psi = 0, and (0, 0) is not a zero of the field.
"""

import math

import numpy

from ..errors import ConfigError
from ..validate import finite_number, positive_int

LOSSES = ("standard", "non-saturating", "wgan")
"""The Dirac-GAN losses: the standard (minimax) GAN, its non-saturating G, the WGAN."""

F_PRIME_0 = 0.5
"""f'(0) for the standard GAN's f(t) = -log(1 + e^-t): the eigenvalues are ±i/2."""

F_SECOND_0 = -0.25
"""f''(0) for the standard GAN."""


def f_prime(t, loss="standard"):
    """f'(t): 1 / (1 + e^t) for the BCE losses (the logistic sigmoid of -t), 1 for wgan."""
    t = numpy.asarray(t, dtype=numpy.float64)
    if loss == "wgan":
        return numpy.ones_like(t)
    return 0.5 * (1.0 - numpy.tanh(t / 2))          # sigmoid(-t), stable for any t


def check_loss(where, loss):
    if loss not in LOSSES:
        raise ConfigError(f"{where}: loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    return loss


def check_regularisers(where, r1, gp, gp_target, instance_noise):
    """Each a finite number >= 0, as floats."""
    return (finite_number(where, "r1", r1, minimum=0.0),
            finite_number(where, "gp", gp, minimum=0.0),
            finite_number(where, "gp_target", gp_target, minimum=0.0),
            finite_number(where, "instance_noise", instance_noise, minimum=0.0))


def dirac_vector_field(theta, psi, loss="standard", r1=0.0, gp=0.0, gp_target=1.0,
                       instance_noise=0.0, quadrature=64):
    """v(theta, psi) = (-dL/dtheta, dL/dpsi - regularisers' gradients): the direction that
    simultaneous gradient descent moves (theta, psi) in (one step: x + lr v(x)).

    theta, psi: numbers or arrays of one shape; returns (v_theta, v_psi), float64 arrays of
    that shape. Instance noise (std ``instance_noise``) is integrated exactly by Gauss-Hermite
    quadrature with ``quadrature`` nodes. At psi = 0 WGAN-GP's direction sign(psi) is taken
    as 0 (as ``minigan.gan.gradient_penalty`` does)."""
    where = "dirac_vector_field"
    check_loss(where, loss)
    r1, gp, gp_target, sigma = check_regularisers(where, r1, gp, gp_target, instance_noise)
    quadrature = positive_int(where, "quadrature", quadrature)
    theta = numpy.asarray(theta, dtype=numpy.float64)
    psi = numpy.asarray(psi, dtype=numpy.float64)
    if theta.shape != psi.shape:
        raise ConfigError(f"{where}: theta shape {theta.shape} and psi shape {psi.shape} "
                          "differ; expected equal shapes")
    if sigma > 0:
        nodes, weights = numpy.polynomial.hermite_e.hermegauss(quadrature)
        eps = sigma * nodes.reshape((-1,) + (1,) * theta.ndim)
        w = (weights / math.sqrt(2 * math.pi)).reshape(eps.shape)
    else:
        eps, w = numpy.zeros((1,) + (1,) * theta.ndim), numpy.ones((1,) + (1,) * theta.ndim)
    fake = theta + eps                                  # G's sample, noisy
    if loss == "non-saturating":                        # G minimises -f(-psi x_fake)
        v_theta = -(w * psi * f_prime(-psi * fake, loss)).sum(axis=0)
    else:
        v_theta = -(w * psi * f_prime(psi * fake, loss)).sum(axis=0)
    v_psi = (w * (fake * f_prime(psi * fake, loss) - eps * f_prime(-psi * eps, loss))).sum(0)
    v_psi = v_psi - r1 * psi - 2 * gp * (numpy.abs(psi) - gp_target) * numpy.sign(psi)
    return v_theta, v_psi


def dirac_jacobian(loss="standard", r1=0.0, gp=0.0, gp_target=1.0, instance_noise=0.0):
    """The Jacobian of ``dirac_vector_field`` at the equilibrium (0, 0), a (2, 2) float64
    array (rows: v_theta, v_psi; columns: d/dtheta, d/dpsi). WGAN-GP with gp > 0 and
    gp_target > 0 is refused: its field jumps at psi = 0 and has no Jacobian there."""
    where = "dirac_jacobian"
    check_loss(where, loss)
    r1, gp, gp_target, sigma = check_regularisers(where, r1, gp, gp_target, instance_noise)
    if gp > 0 and gp_target > 0:
        raise ConfigError(f"{where}: the WGAN-GP penalty gp * (|psi| - gp_target)^2 with "
                          f"gp_target = {gp_target} > 0 has a gradient that jumps by "
                          f"4 * gp * gp_target at psi = 0, so the field has no Jacobian at "
                          "the equilibrium; use gp_target=0 (a zero-centred penalty, "
                          "2 * gp acting like R1's gamma), or run dirac_gan to see the "
                          "trajectory")
    fp, fpp = (1.0, 0.0) if loss == "wgan" else (F_PRIME_0, F_SECOND_0)
    return numpy.array([[0.0, -fp], [fp, -r1 - 2 * gp + 2 * sigma ** 2 * fpp]])


def dirac_eigenvalues(loss="standard", r1=0.0, gp=0.0, gp_target=1.0, instance_noise=0.0):
    """The two eigenvalues of ``dirac_jacobian`` (complex128, the one with the larger
    imaginary part first), from the closed form lambda = (a ± sqrt(a^2 - 4 f'(0)^2)) / 2,
    a = the trace (-gamma - 2 lambda_gp [t = 0] + 2 sigma^2 f''(0)).

    Real parts: 0 unregularised (±i f'(0): the iterates circle or spiral, never converge),
    < 0 with any gamma > 0, a zero-centred penalty or sigma > 0 (locally convergent)."""
    jacobian = dirac_jacobian(loss, r1, gp, gp_target, instance_noise)
    trace, det = jacobian[1, 1], jacobian[0, 1] * -jacobian[1, 0]
    root = numpy.sqrt(complex(trace * trace - 4 * det))
    return numpy.array([(trace + root) / 2, (trace - root) / 2], dtype=numpy.complex128)


def step_growth(lr, loss="standard"):
    """|1 + lr * lambda| for the unregularised eigenvalues lambda = ±i f'(0): the factor by
    which one simultaneous step multiplies the distance to (0, 0) near the equilibrium,
    sqrt(1 + lr^2 f'(0)^2) > 1 for every lr > 0 (the bilinear game: f'(0) = 1)."""
    lr = finite_number("step_growth", "lr", lr, above=0.0)
    fp = 1.0 if check_loss("step_growth", loss) == "wgan" else F_PRIME_0
    return math.sqrt(1.0 + (lr * fp) ** 2)
