"""Upsample2d, AvgPool2d and PixelNorm (the progressive GAN's layers): backward against
finite differences (float64, random upstream gradient, hypothesis-drawn shapes, batch 1
included) on NumPy and on the strict CuPy-like backend; forward against the definitions
written out element by element; upsampling and pooling as each other's adjoints; dtypes
kept; errors naming the layer. PyTorch parity: tests/parity/test_torch_parity_progressive.py."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, DTypeError, ShapeError, StateError
from minigan.gradcheck import check_module

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)
factors = st.tuples(st.integers(1, 3), st.integers(1, 3))


def host(a):
    return mg.backend.to_numpy(a)


def assert_gradients_match(layer, x):
    errors = check_module(layer, x)
    assert [e.name for e in errors] == ["input"]
    assert errors[0].within(TOLERANCE), (layer, errors[0])
    # count only draws where a real gradient was compared, not (nearly) zeros: PixelNorm's
    # is gy's part orthogonal to x, tiny when a random gy falls almost along x (two
    # features, one sample: |grad| 2e-4 was drawn). A backward that returned zeros would
    # have every draw rejected, and hypothesis fails a test that rejects nearly all.
    assume(errors[0].scale > 1e-3)


@given(n=st.integers(1, 3), h=st.integers(1, 4), w=st.integers(1, 4), c=st.integers(1, 3),
       scale=factors, seed=seeds)
def test_upsample_matches_finite_differences(array_backend, n, h, w, c, scale, seed):
    x = mg.backend.default_rng(seed + 1).standard_normal((n, h, w, c))
    assert_gradients_match(mg.nn.Upsample2d(scale), x)


@given(n=st.integers(1, 3), kernel=factors, extra=st.tuples(st.integers(0, 4), st.integers(0, 4)),
       c=st.integers(1, 3), seed=seeds)
def test_avg_pool_matches_finite_differences(array_backend, n, kernel, extra, c, seed):
    """Sizes from the kernel up, divisible or not (a partial last window is dropped)."""
    h, w = kernel[0] + extra[0], kernel[1] + extra[1]
    x = mg.backend.default_rng(seed + 1).standard_normal((n, h, w, c))
    assert_gradients_match(mg.nn.AvgPool2d(kernel), x)


@given(shape=st.one_of(st.tuples(st.integers(1, 3), st.integers(2, 6)),
                       st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),
                                 st.integers(2, 4))),
       seed=seeds)
def test_pixel_norm_matches_finite_differences(array_backend, shape, seed):
    """(N, F) vectors and NHWC images with 2 or more channels (one channel: the closed
    form below); the input is drawn away from a zero vector (where r = 1/sqrt(eps) and
    the map is nearly singular)."""
    x = mg.backend.default_rng(seed + 1).standard_normal(shape) + 0.5
    assert_gradients_match(mg.nn.PixelNorm(), x)


def test_pixel_norm_of_one_channel_has_the_closed_form():
    """C = 1: y = x / sqrt(x^2 + eps), nearly sign(x), so dy/dx = eps / (x^2 + eps)^(3/2):
    the gradient exists only through eps (as BatchNorm's on two values)."""
    eps = 1e-2
    x = np.random.default_rng(0).standard_normal((5, 1))
    gy = np.random.default_rng(1).standard_normal((5, 1))
    layer = mg.nn.PixelNorm(eps=eps)
    np.testing.assert_allclose(layer(x), x / np.sqrt(x * x + eps), rtol=1e-14)
    np.testing.assert_allclose(layer.backward(gy), gy * eps / (x * x + eps) ** 1.5, rtol=1e-12)


def test_upsample_forward_is_the_definition(array_backend):
    x = mg.backend.default_rng(0).standard_normal((2, 3, 4, 2))
    y = host(mg.nn.Upsample2d((2, 3))(x))
    x = host(x)
    assert y.shape == (2, 6, 12, 2)
    for i in range(6):
        for j in range(12):
            np.testing.assert_array_equal(y[:, i, j], x[:, i // 2, j // 3])


def test_avg_pool_forward_is_the_definition(array_backend):
    x = mg.backend.default_rng(0).standard_normal((2, 5, 7, 3))
    y = host(mg.nn.AvgPool2d(2)(x))
    x = host(x)
    assert y.shape == (2, 2, 3, 3)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(y[:, i, j], x[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2].mean(
                axis=(1, 2)), rtol=1e-14, atol=1e-15)


def test_avg_pool_gradient_skips_the_dropped_row_and_column():
    layer = mg.nn.AvgPool2d(2)
    layer(np.ones((1, 5, 5, 1)))
    gx = layer.backward(np.ones((1, 2, 2, 1)))[0, :, :, 0]
    np.testing.assert_array_equal(gx[:4, :4], np.full((4, 4), 0.25))
    np.testing.assert_array_equal(gx[4], 0)
    np.testing.assert_array_equal(gx[:, 4], 0)


def test_pixel_norm_forward_is_the_definition(array_backend):
    x = mg.backend.default_rng(0).standard_normal((3, 2, 2, 5))
    y = host(mg.nn.PixelNorm(eps=1e-3)(x))
    x = host(x)
    np.testing.assert_allclose(y, x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + 1e-3),
                               rtol=1e-14)
    np.testing.assert_allclose((y * y).mean(axis=-1), 1, rtol=1e-2)  # unit RMS up to eps


@given(n=st.integers(1, 2), h=st.integers(1, 4), w=st.integers(1, 4), c=st.integers(1, 3),
       factor=factors, seed=seeds)
def test_pooling_and_upsampling_are_adjoint_up_to_the_window_size(n, h, w, c, factor, seed):
    """<up(x), g> = <x, up^T(g)> where up^T is Upsample2d's backward, and that backward is
    KH*KW times AvgPool2d's forward; AvgPool2d's backward is Upsample2d's forward divided
    by KH*KW."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, h, w, c))
    g = rng.standard_normal((n, h * factor[0], w * factor[1], c))
    up, pool = mg.nn.Upsample2d(factor), mg.nn.AvgPool2d(factor)
    up_x, up_t_g = up(x), up.backward(g)
    assert np.isclose((up_x * g).sum(), (x * up_t_g).sum(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(up_t_g, factor[0] * factor[1] * pool(g), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(pool.backward(x), up_x / (factor[0] * factor[1]), rtol=1e-15)


@pytest.mark.parametrize("layer", [mg.nn.Upsample2d(2), mg.nn.AvgPool2d(2), mg.nn.PixelNorm()],
                         ids=["Upsample2d", "AvgPool2d", "PixelNorm"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_and_gy_is_not_modified(array_backend, layer, dtype):
    x = mg.backend.default_rng(0).standard_normal((2, 4, 6, 3), dtype=dtype)
    y = layer(x)
    gy = mg.backend.default_rng(1).standard_normal(y.shape, dtype=dtype)
    saved = gy.copy()
    gx = layer.backward(gy)
    assert y.dtype == gx.dtype == x.dtype and gx.shape == x.shape
    assert bool((gy == saved).all())
    layer(x)
    assert layer.backward(gy, need_input_grad=False) is None
    with pytest.raises(StateError, match="without a preceding forward"):
        layer.backward(gy)


@pytest.mark.parametrize("make, kwargs, message", [
    (mg.nn.Upsample2d, {"scale": 0}, "Upsample2d: scale must be >= 1, got 0"),
    (mg.nn.Upsample2d, {"scale": 1.5}, "Upsample2d: scale must be an int or a pair of ints"),
    (mg.nn.AvgPool2d, {"kernel_size": (2, 0)}, r"AvgPool2d: kernel_size must be >= 1"),
    (mg.nn.PixelNorm, {"eps": 0}, "PixelNorm: eps must be > 0, got 0")])
def test_bad_arguments(make, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make(**kwargs)


def test_bad_inputs_name_the_layer_expected_and_got():
    with pytest.raises(ShapeError, match=r"Upsample2d\(scale=\(2, 2\)\): expected a 4-d input "
                                         r"\(N, H, W, C\) NHWC, got shape \(2, 3\)"):
        mg.nn.Upsample2d(2)(np.zeros((2, 3)))
    with pytest.raises(ShapeError, match=r"AvgPool2d\(kernel_size=\(2, 2\)\): expected an image "
                                         r"at least as large as the window .* got shape "
                                         r"\(1, 1, 4, 1\)"):
        mg.nn.AvgPool2d(2)(np.zeros((1, 1, 4, 1)))
    with pytest.raises(ShapeError, match=r"PixelNorm\(eps=1e-08\): expected at least 2 axes"):
        mg.nn.PixelNorm()(np.zeros(3))
    with pytest.raises(DTypeError, match="PixelNorm.*uint8"):
        mg.nn.PixelNorm()(np.zeros((2, 3), dtype=np.uint8))
    with pytest.raises(mg.NonFiniteError, match="AvgPool2d"):
        mg.nn.AvgPool2d(2)(np.full((1, 2, 2, 1), np.nan))
