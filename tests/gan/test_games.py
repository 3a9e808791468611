"""The bilinear game and the Dirac-GAN (minigan.gan.games) against their closed forms.

- One step of ``dirac_gan`` (computed with a one-weight Dense, BCEWithLogits, r1_penalty,
  gradient_penalty, SGD) moves (theta, psi) by exactly lr * v(theta, psi), v the closed-form
  vector field (-psi f'(theta psi), theta f'(theta psi) - ...), at hypothesis-drawn points,
  for every loss and regulariser; the alternating step uses the updated psi for G.
- The Jacobian's eigenvalues: the closed forms against central differences of the field,
  and against finite differences of dirac_gan's own one-step map (I + lr J).
- The known behaviour (Mescheder et al. 2018): lr 0.1, 5,000 simultaneous steps from (1, 1)
  spiral out from 1.41 to 3.63; alternating steps stay at 1.41; R1 converges; near the
  equilibrium each simultaneous step multiplies the distance by sqrt(1 + lr^2 f'(0)^2).
- The bilinear game: growth sqrt(1 + lr^2) per simultaneous step, x^2 + y^2 - lr x y
  conserved by alternating steps.
- Bad arguments are refused with ConfigError naming the argument.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan.errors import ConfigError
from minigan.gan import games

coords = st.floats(-3, 3, allow_nan=False)
rates = st.floats(1e-3, 0.5)
# one step is a handful of float64 operations on O(1) numbers: agreement to ~1e-15 each
STEP_TOL = 1e-12


def far_from_zero(psi):
    return abs(psi) > 1e-3   # WGAN-GP's sign(psi) jumps at 0


@given(theta=coords, psi=coords, lr=rates,
       loss=st.sampled_from(games.LOSSES), r1=st.sampled_from([0.0, 0.7]),
       gp=st.sampled_from([0.0, 1.3]), gp_target=st.sampled_from([0.0, 1.0]))
def test_one_simultaneous_step_follows_the_closed_form_vector_field(theta, psi, lr, loss, r1,
                                                                    gp, gp_target):
    if not far_from_zero(psi):
        psi = 0.5
    path = games.dirac_gan("simultaneous", 1, lr, start=(theta, psi), r1=r1, loss=loss,
                           gp=gp, gp_target=gp_target)
    v = games.dirac_vector_field(theta, psi, loss=loss, r1=r1, gp=gp, gp_target=gp_target)
    assert path.shape == (2, 2) and path.dtype == np.float64
    np.testing.assert_allclose(path[0], [theta, psi], rtol=0, atol=0)
    np.testing.assert_allclose(path[1], [theta + lr * v[0], psi + lr * v[1]],
                               rtol=STEP_TOL, atol=STEP_TOL)


@given(theta=coords, psi=coords, lr=rates, loss=st.sampled_from(games.LOSSES),
       r1=st.sampled_from([0.0, 0.7]))
def test_one_alternating_step_moves_d_first_then_g_against_the_new_d(theta, psi, lr, loss,
                                                                       r1):
    path = games.dirac_gan("alternating", 1, lr, start=(theta, psi), r1=r1, loss=loss)
    psi1 = psi + lr * games.dirac_vector_field(theta, psi, loss=loss, r1=r1)[1]
    theta1 = theta + lr * games.dirac_vector_field(theta, psi1, loss=loss, r1=r1)[0]
    np.testing.assert_allclose(path[1], [theta1, psi1], rtol=STEP_TOL, atol=STEP_TOL)


def test_the_standard_field_is_the_papers_formula():
    """v = (-psi f'(theta psi), theta f'(theta psi)) with f(t) = -log(1 + e^-t) written out,
    f'(t) = e^-t / (1 + e^-t), at a few points."""
    for theta, psi in [(1.0, 1.0), (-2.0, 0.3), (0.4, -1.7)]:
        fp = math.exp(-theta * psi) / (1 + math.exp(-theta * psi))
        v = games.dirac_vector_field(theta, psi)
        np.testing.assert_allclose([float(v[0]), float(v[1])], [-psi * fp, theta * fp],
                                   rtol=1e-14)


def numerical_jacobian(field, h=1e-5):
    """Central differences of field(theta, psi) -> (v_theta, v_psi) at (0, 0)."""
    jac = np.empty((2, 2))
    for j, (dt, dp) in enumerate([(h, 0.0), (0.0, h)]):
        plus, minus = field(dt, dp), field(-dt, -dp)
        jac[:, j] = [(float(plus[i]) - float(minus[i])) / (2 * h) for i in range(2)]
    return jac


CASES = [dict(), dict(r1=0.3), dict(r1=3.0), dict(instance_noise=0.8),
         dict(loss="non-saturating"), dict(loss="wgan", r1=0.5),
         dict(loss="wgan", gp=0.4, gp_target=0.0)]


@pytest.mark.parametrize("case", CASES, ids=[str(c) or "plain" for c in CASES])
def test_jacobian_and_eigenvalues_match_finite_differences_of_the_field(case):
    jac = games.dirac_jacobian(**case)
    # central differences of a smooth field: error O(h^2) ~ 1e-10 relative
    np.testing.assert_allclose(
        numerical_jacobian(lambda t, p: games.dirac_vector_field(t, p, **case)), jac,
        atol=1e-8)
    eig = games.dirac_eigenvalues(**case)
    np.testing.assert_allclose(np.sort_complex(eig), np.sort_complex(np.linalg.eigvals(jac)),
                               atol=1e-12)


def test_eigenvalues_in_closed_form():
    np.testing.assert_allclose(games.dirac_eigenvalues(), [0.5j, -0.5j], atol=0)
    gamma = 0.3
    root = np.sqrt(complex(gamma ** 2 - 1.0))
    np.testing.assert_allclose(games.dirac_eigenvalues(r1=gamma),
                               [(-gamma + root) / 2, (-gamma - root) / 2], atol=1e-15)
    sigma = 0.8
    a = sigma ** 2 * games.F_SECOND_0
    root = np.sqrt(complex(a * a - 0.25))
    np.testing.assert_allclose(games.dirac_eigenvalues(instance_noise=sigma),
                               [a + root, a - root], atol=1e-15)
    assert games.dirac_eigenvalues(r1=1e-3).real.max() < 0
    assert games.dirac_eigenvalues(instance_noise=0.1).real.max() < 0


def test_dirac_gans_own_one_step_map_has_jacobian_identity_plus_lr_j():
    """Finite differences of the trajectory computed by minigan's layers around (0, 0)."""
    lr, h = 0.1, 1e-6
    for case in [dict(), dict(r1=0.7), dict(loss="wgan", gp=0.5, gp_target=0.0)]:
        def step(t, p):
            return games.dirac_gan("simultaneous", 1, lr, start=(t, p), **case)[1]
        jac = np.column_stack([(step(h, 0) - step(-h, 0)) / (2 * h),
                               (step(0, h) - step(0, -h)) / (2 * h)])
        np.testing.assert_allclose(jac, np.eye(2) + lr * games.dirac_jacobian(**case),
                                   atol=1e-8)


def test_known_behaviour_from_one_one():
    radius = lambda path: np.hypot(path[:, 0], path[:, 1])  # noqa: E731
    simultaneous = radius(games.dirac_gan("simultaneous", 5000, 0.1, start=(1.0, 1.0)))
    assert simultaneous[0] == pytest.approx(math.sqrt(2))
    assert simultaneous[-1] == pytest.approx(3.6277, abs=1e-3)
    assert np.all(np.diff(simultaneous) > 0)             # every step moves outwards
    alternating = radius(games.dirac_gan("alternating", 5000, 0.1))
    assert 1.40 < alternating.min() and alternating.max() < 1.46
    assert abs(alternating[-1] - math.sqrt(2)) < 0.01
    r1 = radius(games.dirac_gan("simultaneous", 2000, 0.1, r1=0.3))
    assert r1[-1] < 1e-10


def test_near_the_equilibrium_each_simultaneous_step_grows_by_sqrt_one_plus_lr2_fp2():
    lr = 0.2
    r = np.hypot(*games.dirac_gan("simultaneous", 200, lr, start=(1e-4, -2e-4)).T)
    # |.| ~ 2e-4..3e-4: the field's cubic terms are ~1e-8 relative to the linear ones
    np.testing.assert_allclose(r[1:] / r[:-1], games.step_growth(lr), rtol=1e-7)
    assert games.step_growth(lr) == pytest.approx(math.sqrt(1 + (lr / 2) ** 2))


def test_instance_noise_converges_and_without_it_nothing_does():
    noisy = games.dirac_gan("simultaneous", 1000, 0.1, instance_noise=1.0, noise_samples=64)
    assert np.hypot(*noisy[-1]) < 0.1                    # from 1.41; the noise floor ~ 0.01
    again = games.dirac_gan("simultaneous", 1000, 0.1, instance_noise=1.0, noise_samples=64)
    np.testing.assert_array_equal(noisy, again)           # same seed, same computation


def test_the_wgan_gp_penalty_does_not_bring_the_dirac_gan_to_its_equilibrium():
    """gp * (|psi| - 1)^2 needs |psi| = 1 while the equilibrium has psi = 0: with gp = 1 the
    iterates settle at theta = -2 gp (WGAN) and -4 gp (standard), psi = 0+ -- the zero of
    the field on the psi > 0 side, not the equilibrium (0, 0)."""
    for loss, theta in (("wgan", -2.0), ("standard", -4.0)):
        end = games.dirac_gan("simultaneous", 5000, 0.1, loss=loss, gp=1.0)[-1]
        np.testing.assert_allclose(end, [theta, 0.0], atol=1e-6)
    with pytest.raises(ConfigError, match="no Jacobian"):
        games.dirac_eigenvalues(gp=1.0)


def test_bilinear_game():
    lr = 0.3
    sim = games.bilinear_game("simultaneous", 100, lr, start=(0.5, -1.0))
    r = np.hypot(sim[:, 0], sim[:, 1])
    np.testing.assert_allclose(r[1:] / r[:-1], math.sqrt(1 + lr * lr), rtol=1e-14)
    alt = games.bilinear_game("alternating", 1000, lr, start=(0.5, -1.0))
    energy = alt[:, 0] ** 2 + alt[:, 1] ** 2 - lr * alt[:, 0] * alt[:, 1]
    np.testing.assert_allclose(energy, energy[0], rtol=1e-12)
    assert sim.shape == (101, 2) and alt.shape == (1001, 2)


def test_runs_on_the_strict_backend_with_the_numpy_numbers(array_backend):
    path = games.dirac_gan("alternating", 50, 0.1, r1=0.2, instance_noise=0.3,
                           noise_samples=8)
    assert isinstance(path, np.ndarray) and path.shape == (51, 2)
    if array_backend.__name__ != "cupy":   # CuPy draws other random numbers
        from minigan import backend
        backend.use("numpy")
        np.testing.assert_allclose(path, games.dirac_gan("alternating", 50, 0.1, r1=0.2,
                                                         instance_noise=0.3, noise_samples=8),
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kwargs, words", [
    (dict(method="gradient"), "method must be one of simultaneous, alternating"),
    (dict(steps=0), "steps must be a positive int"),
    (dict(steps=2.5), "steps must be a positive int"),
    (dict(lr=0.0), "lr must be > 0"),
    (dict(lr=float("nan")), "lr must be a finite number"),
    (dict(start=(1.0,)), "start must be a pair"),
    (dict(start="ab"), "start must be a pair"),
    (dict(start=(1.0, float("inf"))), r"start\[1\] must be a finite number"),
    (dict(r1=-1.0), "r1 must be >= 0"),
    (dict(loss="hinge"), "loss must be one of standard, non-saturating, wgan"),
    (dict(gp=-0.1), "gp must be >= 0"),
    (dict(instance_noise=-1.0), "instance_noise must be >= 0"),
    (dict(noise_samples=0), "noise_samples must be a positive int"),
    (dict(seed=1.5), "seed must be an int or None"),
])
def test_bad_arguments_are_refused_with_a_clear_error(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        games.dirac_gan(**kwargs)


def test_bilinear_and_theory_validate_too():
    with pytest.raises(ConfigError, match="method"):
        games.bilinear_game("both")
    with pytest.raises(ConfigError, match="theta shape"):
        games.dirac_vector_field(np.zeros(2), np.zeros(3))
    with pytest.raises(ConfigError, match="loss must be one of"):
        games.dirac_eigenvalues(loss="lsgan")
