"""Every layer's backward against finite differences (float64, random upstream
gradient, hypothesis-drawn shapes), on NumPy and on the strict CuPy-like backend."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.gradcheck import check_module

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)


def assert_gradients_match(layer, x, mode="elementwise"):
    errors = check_module(layer, x, mode=mode)
    assert errors, "the check compared nothing"
    for error in errors:
        assert error.within(TOLERANCE), (layer, error)
    return errors


def random_input(shape, seed, off_kink=False):
    x = mg.backend.default_rng(seed).standard_normal(shape)
    if off_kink:  # ReLU-family: keep |x| > 1e-2 so central differences never straddle 0
        x += 0.01 * ((x >= 0) * 2 - 1)
    return x


@given(n=st.integers(1, 4), fan_in=st.integers(1, 5), fan_out=st.integers(1, 4),
       bias=st.booleans(), seed=seeds)
def test_dense(array_backend, n, fan_in, fan_out, bias, seed):
    layer = mg.nn.Dense(fan_in, fan_out, bias=bias, dtype="float64",
                        rng=mg.backend.default_rng(seed))
    errors = assert_gradients_match(layer, random_input((n, fan_in), seed + 1))
    assert [e.name for e in errors] == ["input", "weight"] + (["bias"] if bias else [])


@given(n=st.integers(1, 2), h=st.integers(1, 6), w=st.integers(1, 6),
       c_in=st.integers(1, 3), c_out=st.integers(1, 3), kh=st.integers(1, 4),
       kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), bias=st.booleans(), seed=seeds)
@settings(max_examples=25)
def test_conv2d(array_backend, n, h, w, c_in, c_out, kh, kw, sh, sw, ph, pw, bias, seed):
    assume(h + 2 * ph >= kh and w + 2 * pw >= kw)
    layer = mg.nn.Conv2d(c_in, c_out, (kh, kw), stride=(sh, sw), padding=(ph, pw), bias=bias,
                         dtype="float64", rng=mg.backend.default_rng(seed))
    assert_gradients_match(layer, random_input((n, h, w, c_in), seed + 1))


@given(n=st.integers(1, 2), h=st.integers(1, 4), w=st.integers(1, 4),
       c_in=st.integers(1, 3), c_out=st.integers(1, 3), kh=st.integers(1, 5),
       kw=st.integers(1, 5), sh=st.integers(1, 3), sw=st.integers(1, 3),
       ph=st.integers(0, 2), pw=st.integers(0, 2), data=st.data(), bias=st.booleans(),
       seed=seeds)
@settings(max_examples=25)
def test_conv_transpose2d(array_backend, n, h, w, c_in, c_out, kh, kw, sh, sw, ph, pw, data,
                          bias, seed):
    oph = data.draw(st.integers(0, sh - 1))
    opw = data.draw(st.integers(0, sw - 1))
    assume((h - 1) * sh - 2 * ph + kh + oph >= 1 and (w - 1) * sw - 2 * pw + kw + opw >= 1)
    layer = mg.nn.ConvTranspose2d(c_in, c_out, (kh, kw), stride=(sh, sw), padding=(ph, pw),
                                  output_padding=(oph, opw), bias=bias, dtype="float64",
                                  rng=mg.backend.default_rng(seed))
    assert_gradients_match(layer, random_input((n, h, w, c_in), seed + 1))


# Batches of 2 values per channel are left out of the finite-difference comparison:
# there xhat = +-1 whatever x is, the true input gradient is ~eps/var (about 1e-6 of
# its usual size) and a relative error would measure round-off; the test below
# checks that case on its own.
@given(n=st.integers(3, 6), c=st.integers(1, 4), train=st.booleans(), seed=seeds)
def test_batchnorm1d(array_backend, n, c, train, seed):
    layer = mg.nn.BatchNorm1d(c, dtype="float64").train(train)
    _randomise_batchnorm(layer, seed)
    assert_gradients_match(layer, random_input((n, c), seed + 1) * 3 + 1)


@given(n=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(1, 4), c=st.integers(1, 3),
       train=st.booleans(), seed=seeds)
def test_batchnorm2d(array_backend, n, h, w, c, train, seed):
    assume(n * h * w >= 3)
    layer = mg.nn.BatchNorm2d(c, dtype="float64").train(train)
    _randomise_batchnorm(layer, seed)
    assert_gradients_match(layer, random_input((n, h, w, c), seed + 1) * 2 - 0.5)


def _randomise_batchnorm(layer, seed):
    """Non-trivial gamma, beta and running statistics, so no term of the backward hides."""
    rng = mg.backend.default_rng(seed)
    c = layer.num_features
    layer.weight.data[...] = rng.standard_normal(c) + 1.5
    layer.bias.data[...] = rng.standard_normal(c)
    layer.running_mean[...] = rng.standard_normal(c)
    layer.running_var[...] = rng.random(c) + 0.5


@given(c=st.integers(1, 4), seed=seeds)
def test_batchnorm_on_two_values_per_channel_matches_the_closed_form(c, seed):
    """With two values x1, x2 and d = (x1 - x2) / 2: y1 = d / sqrt(d^2 + eps) = -y2, so
    dy1/dx1 = eps / (2 (d^2 + eps)^(3/2)): the gradient exists only through eps."""
    eps = 1e-3
    layer = mg.nn.BatchNorm1d(c, eps=eps, dtype="float64")
    x = random_input((2, c), seed) * 0.1
    gy = random_input((2, c), seed + 1)
    d = (x[0] - x[1]) / 2
    np.testing.assert_allclose(layer(x)[0], d / np.sqrt(d * d + eps), rtol=1e-12)
    slope = eps / (2 * (d * d + eps) ** 1.5)
    expected = (gy[0] - gy[1]) * slope
    np.testing.assert_allclose(layer.backward(gy), [expected, -expected], rtol=1e-9,
                               atol=1e-15)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       name=st.sampled_from(["relu", "leaky", "leaky_steep", "tanh", "sigmoid"]), seed=seeds)
def test_activations(array_backend, shape, name, seed):
    layer = {"relu": mg.nn.ReLU(), "leaky": mg.nn.LeakyReLU(0.2),
             "leaky_steep": mg.nn.LeakyReLU(1.7), "tanh": mg.nn.Tanh(),
             "sigmoid": mg.nn.Sigmoid()}[name]
    assert_gradients_match(layer, random_input(tuple(shape), seed, off_kink=True) * 2)


@given(n=st.integers(1, 3), seed=seeds)
def test_flatten_and_reshape(array_backend, n, seed):
    model = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Dense(12, 6, dtype="float64"),
                             mg.nn.Reshape(3, 2), mg.nn.Tanh(), mg.nn.Flatten())
    assert_gradients_match(model, random_input((n, 2, 3, 2), seed))


@given(n=st.integers(2, 3), seed=seeds)
@settings(max_examples=10)
def test_small_dcgan_pair_directional(array_backend, n, seed):
    """A whole generator -> discriminator stack, every parameter at once, by directional
    derivatives (the check that scales to real model sizes)."""
    rng = mg.backend.default_rng(seed)
    f64 = {"dtype": "float64", "rng": rng}
    bn64 = {"dtype": "float64"}
    model = mg.nn.Sequential(
        mg.nn.Dense(4, 2 * 2 * 3, **f64), mg.nn.Reshape(2, 2, 3),
        mg.nn.ConvTranspose2d(3, 2, 5, stride=2, padding=2, output_padding=1, **f64),
        mg.nn.BatchNorm2d(2, **bn64), mg.nn.ReLU(),
        mg.nn.ConvTranspose2d(2, 1, 5, stride=2, padding=2, output_padding=1, **f64),
        mg.nn.Tanh(),
        mg.nn.Conv2d(1, 2, 5, stride=2, padding=2, **f64), mg.nn.LeakyReLU(0.2),
        mg.nn.Conv2d(2, 3, 5, stride=2, padding=2, **f64), mg.nn.BatchNorm2d(3, **bn64),
        mg.nn.LeakyReLU(0.2), mg.nn.Flatten(), mg.nn.Dense(2 * 2 * 3, 1, **f64))
    x = random_input((n, 4), seed + 1)
    assume(min_kink_distance(model, x) > 1e-3)  # central differences must not straddle 0
    errors = assert_gradients_match(model, x, mode="directional")
    assert len(errors) == 3


def min_kink_distance(model, x):
    """The smallest |input| of any ReLU-family layer of a Sequential on input x."""
    distance = float("inf")
    for layer in model:
        if isinstance(layer, (mg.nn.ReLU, mg.nn.LeakyReLU)):
            distance = min(distance, float(abs(x).min()))
        x = layer(x)
    return distance
