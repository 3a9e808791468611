"""Optimizers against hand-computed steps of the standard update rules."""

import math

import numpy as np
import pytest

import minigan as mg
from minigan.errors import ConfigError
from minigan.nn import Parameter


def parameter(values):
    return Parameter(np.array(values, dtype="float64"))


def test_sgd_plain_and_with_momentum_by_hand(array_backend):
    xp = array_backend
    p = Parameter(xp.asarray(np.array([1.0, -2.0])))
    opt = mg.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad[...] = xp.asarray(np.array([0.5, 1.0]))
    opt.step()  # buffer = g
    np.testing.assert_allclose(mg.backend.to_numpy(p.data), [1.0 - 0.05, -2.0 - 0.1])
    opt.step()  # buffer = 0.9 g + g = 1.9 g
    np.testing.assert_allclose(mg.backend.to_numpy(p.data), [0.95 - 0.095, -2.1 - 0.19])
    q = parameter([3.0])
    q.grad[...] = 2.0
    mg.optim.SGD([q], lr=0.25).step()
    assert q.data.tolist() == [2.5]


def test_adam_first_two_steps_by_hand(array_backend):
    xp = array_backend
    p = Parameter(xp.asarray(np.array([0.5])))
    opt = mg.optim.Adam([p], lr=0.01, betas=(0.5, 0.999), eps=1e-8)
    p.grad[...] = 2.0
    opt.step()
    # m = 1.0, v = 0.004; mhat = 2, vhat = 4: step = 0.01 * 2 / (2 + 1e-8)
    expected = 0.5 - 0.01 * 2 / (2 + 1e-8)
    assert float(p.data[0]) == pytest.approx(expected, rel=1e-14)
    p.grad[...] = -1.0
    opt.step()
    m = 0.5 * 1.0 + 0.5 * -1.0
    v = 0.999 * 0.004 + 0.001 * 1.0
    expected -= (0.01 / (1 - 0.25)) * m / (math.sqrt(v) / math.sqrt(1 - 0.999**2) + 1e-8)
    assert float(p.data[0]) == pytest.approx(expected, rel=1e-14)


def test_rmsprop_first_two_steps_by_hand(array_backend):
    xp = array_backend
    p = Parameter(xp.asarray(np.array([0.5])))
    opt = mg.optim.RMSprop([p], lr=0.01, alpha=0.9, eps=1e-8)
    p.grad[...] = 2.0
    opt.step()
    v = 0.1 * 4.0                                  # 0.9 * 0 + 0.1 * 2^2
    expected = 0.5 - 0.01 * 2.0 / (math.sqrt(v) + 1e-8)
    assert float(p.data[0]) == pytest.approx(expected, rel=1e-14)
    p.grad[...] = -1.0
    opt.step()
    v = 0.9 * v + 0.1 * 1.0
    expected -= 0.01 * -1.0 / (math.sqrt(v) + 1e-8)
    assert float(p.data[0]) == pytest.approx(expected, rel=1e-14)
    state = opt.state_dict()
    q = Parameter(xp.asarray(np.array([0.0])))
    again = mg.optim.RMSprop([q], lr=1.0)
    again.load_state_dict(state)
    assert again.lr == 0.01 and float(again.v[0][0]) == pytest.approx(v, rel=1e-14)


def test_frozen_parameters_are_not_updated():
    p = parameter([1.0])
    p.grad[...] = 1.0
    p.requires_grad = False
    mg.optim.Adam([p]).step()
    mg.optim.SGD([p], momentum=0.5).step()
    assert p.data.tolist() == [1.0]


def test_optimizer_state_round_trips():
    p = parameter([1.0, 2.0])
    opt = mg.optim.Adam([p], lr=0.1)
    p.grad[...] = [0.3, -0.2]
    opt.step()
    state = opt.state_dict()
    p2 = parameter(p.data.copy())
    opt2 = mg.optim.Adam([p2], lr=0.1)
    opt2.load_state_dict(state)
    p2.grad[...] = p.grad
    opt.step(), opt2.step()
    np.testing.assert_array_equal(p.data, p2.data)


@pytest.mark.parametrize("make, message", [
    (lambda p: mg.optim.Adam([p], lr=-1), "lr must be >= 0"),
    (lambda p: mg.optim.Adam([p], betas=(0.5, 1.0)), r"betas\[1\] must be < 1"),
    (lambda p: mg.optim.Adam([p], betas=(-0.1, 0.9)), r"betas\[0\] must be >= 0"),
    (lambda p: mg.optim.SGD([p], momentum=-0.5), "momentum must be >= 0"),
    (lambda p: mg.optim.RMSprop([p], alpha=1.5), "alpha must be <= 1"),
    (lambda p: mg.optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: mg.optim.SGD([p.data], lr=0.1), "expected a minigan Parameter"),
])
def test_invalid_hyperparameters_are_refused(make, message):
    with pytest.raises(ConfigError, match=message):
        make(parameter([1.0]))
