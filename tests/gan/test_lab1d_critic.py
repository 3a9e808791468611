"""The 1-D lab's WGAN critic: with the gradient penalty its slope between the two modes is
the soft penalty's optimum, without it the slope grows without bound; and the argument
checks.

Data N(2, 0.5^2), a fixed generator N(-2, 0.5^2): W1 = 4. For a linear critic D = s x the
penalised objective is 4 s - lambda (s - 1)^2, largest at s = 1 + 2 / lambda with the
estimate 4 s: what a trained critic must find between the modes.
"""

import pytest

from minigan import backend
from minigan.errors import ConfigError
from minigan.gan import lab1d
from minigan.gan.lab1d_critic import train_critic_1d

DATA, FAKE = lab1d.Gaussian(2.0, 0.5), lab1d.Gaussian(-2.0, 0.5)


def fit(gp_weight, steps=600):
    D = lab1d.mlp_1d_discriminator(hidden=(16, 16), rng=backend.default_rng(0))
    return train_critic_1d(D, DATA, FAKE, gp_weight=gp_weight, steps=steps, batch_size=128,
                           lr=3e-3, grid=lab1d.make_grid(-4.0, 4.0, 81))


@pytest.mark.parametrize("gp_weight", [10.0, 40.0])
def test_the_penalised_critic_finds_the_soft_optimum_between_the_modes(gp_weight):
    result = fit(gp_weight)
    slope = 1 + 2 / gp_weight
    assert abs(result.mean_slope_between(-1.5, 1.5) - slope) < 0.06
    assert abs(result.wasserstein[-20:].mean() - 4 * slope) < 0.3
    assert abs(result.interpolate_slope[-20:].mean() - slope) < 0.06
    assert result.slope.shape == result.d.shape == result.x.shape == (81,)


def test_without_the_penalty_the_slope_and_the_estimate_grow_without_bound():
    short, longer = fit(0.0, steps=200), fit(0.0, steps=600)
    assert longer.mean_slope_between(-1.5, 1.5) > 3 * short.mean_slope_between(-1.5, 1.5) > 100
    assert longer.wasserstein[-1] > 100 * 4


@pytest.mark.parametrize("arguments, message", [
    ({"data": "gauss"}, "data must be a Gaussian or GaussianMixture"),
    ({"D": "critic"}, "D must be a minigan Module"),
    ({"gp_weight": -1.0}, "gp_weight must be >= 0"),
    ({"steps": 0}, "steps must be a positive int"),
])
def test_bad_arguments_are_refused(arguments, message):
    call = {"D": lab1d.mlp_1d_discriminator(), "data": DATA, "fake": FAKE, **arguments}
    with pytest.raises(ConfigError, match=f"train_critic_1d: {message}"):
        train_critic_1d(call.pop("D"), call.pop("data"), call.pop("fake"), **call)
