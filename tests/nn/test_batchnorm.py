"""BatchNorm semantics (PyTorch's): batch statistics in training, biased variance for
normalising, unbiased variance into running_var, running statistics in eval."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ShapeError


@given(n=st.integers(2, 5), h=st.integers(1, 3), w=st.integers(1, 3), c=st.integers(1, 3),
       momentum=st.floats(0.0, 1.0), steps=st.integers(1, 3), seed=st.integers(0, 1000))
def test_batchnorm2d_training_matches_the_definition(n, h, w, c, momentum, steps, seed):
    rng = np.random.default_rng(seed)
    layer = mg.nn.BatchNorm2d(c, eps=1e-3, momentum=momentum, dtype="float64")
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    layer.weight.data[...] = gamma
    layer.bias.data[...] = beta
    running_mean, running_var = np.zeros(c), np.ones(c)
    for _ in range(steps):
        x = rng.standard_normal((n, h, w, c)) * 2 + 3
        y = layer(x)
        flat = x.reshape(-1, c)
        mean, biased = flat.mean(axis=0), flat.var(axis=0)
        np.testing.assert_allclose(y, (x - mean) / np.sqrt(biased + 1e-3) * gamma + beta,
                                   rtol=1e-12, atol=1e-12)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * flat.var(axis=0, ddof=1)
        np.testing.assert_allclose(layer.running_mean, running_mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.running_var, running_var, rtol=1e-12, atol=1e-14)


@given(n=st.integers(1, 5), c=st.integers(1, 4), seed=st.integers(0, 1000))
def test_batchnorm1d_eval_uses_running_statistics_and_leaves_them(n, c, seed):
    rng = np.random.default_rng(seed)
    layer = mg.nn.BatchNorm1d(c, dtype="float64").eval()
    layer.running_mean[...] = rng.standard_normal(c)
    layer.running_var[...] = rng.random(c) + 0.1
    mean, var = layer.running_mean.copy(), layer.running_var.copy()
    x = rng.standard_normal((n, c))
    np.testing.assert_allclose(layer(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_array_equal(layer.running_mean, mean)
    np.testing.assert_array_equal(layer.running_var, var)


def test_training_with_one_value_per_channel_is_refused():
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(3.*more than one value per channel"):
        mg.nn.BatchNorm1d(3)(np.ones((1, 3), "float32"))
    assert mg.nn.BatchNorm1d(3).eval()(np.ones((1, 3), "float32")).shape == (1, 3)
