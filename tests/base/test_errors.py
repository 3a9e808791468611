"""Bad input gets a clear error naming the layer, what was expected and what came."""

import numpy as np
import pytest

import minigan as mg
from minigan.errors import ConfigError, DTypeError, ShapeError


def f32(*shape):
    return np.zeros(shape, dtype="float32")


@pytest.mark.parametrize("layer, x, message", [
    (mg.nn.Dense(3, 2), f32(4, 3, 1),
     r"Dense\(3, 2, bias=True\): expected a 2-d input \(N, in_features\), got shape \(4, 3, 1\)"),
    (mg.nn.Dense(3, 2), f32(4, 5),
     r"Dense\(3, 2.*expected 3 channels/features .* got shape \(4, 5\)"),
    (mg.nn.Conv2d(1, 4, 3), f32(2, 28, 28),
     r"Conv2d\(1, 4, .*expected a 4-d input \(N, H, W, C\) NHWC, got shape \(2, 28, 28\)"),
    (mg.nn.Conv2d(3, 4, 3), f32(2, 8, 8, 1),
     r"Conv2d\(3, 4.*expected 3 channels.*NHWC, got shape \(2, 8, 8, 1\)"),
    (mg.nn.Conv2d(1, 4, 5, padding=1), f32(2, 2, 9, 1),
     r"input height 2 padded by 1 on each side is 4, smaller than the kernel \(5\)"),
    (mg.nn.ConvTranspose2d(2, 1, 3), f32(1, 3, 3, 1),
     r"ConvTranspose2d\(2, 1.*expected 2 channels"),
    (mg.nn.BatchNorm2d(8), f32(4, 8),
     r"BatchNorm2d\(8.*expected a 4-d input \(N, H, W, C\) NHWC, got shape \(4, 8\)"),
    (mg.nn.BatchNorm1d(8), f32(4, 7), r"BatchNorm1d\(8.*expected 8 channels"),
    (mg.nn.Reshape(7, 7, 128), f32(2, 100), r"each sample has 100 values .* needs 6272"),
    (mg.nn.Dense(3, 2), f32(0, 3), r"empty batch"),
])
def test_shape_errors(layer, x, message):
    with pytest.raises(ShapeError, match=message):
        layer(x)


def test_dtype_errors():
    with pytest.raises(DTypeError, match=r"Conv2d.*floating-point input.*got dtype uint8"):
        mg.nn.Conv2d(1, 2, 3)(np.zeros((1, 5, 5, 1), dtype="uint8"))
    with pytest.raises(DTypeError, match=r"input dtype float64 does not match .* float32"):
        mg.nn.Dense(3, 2)(np.zeros((1, 3)))
    with pytest.raises(DTypeError, match=r"expected a numpy array .* got builtins.list"):
        mg.nn.ReLU()([[1.0, -1.0]])


def test_sequential_errors_say_which_layer():
    model = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Dense(784, 1))
    with pytest.raises(ShapeError, match=r"^Sequential\[1\]: Dense\(784, 1.*expected 784"):
        model(f32(2, 14, 14, 1))


def test_gradient_of_the_wrong_shape_is_refused():
    layer = mg.nn.Tanh()
    layer(f32(2, 3))
    with pytest.raises(ShapeError, match=r"Tanh\(\): backward expected a gradient of shape "
                                         r"\(2, 3\) \(the forward output\), got \(3, 2\)"):
        layer.backward(f32(3, 2))


@pytest.mark.parametrize("make, message", [
    (lambda: mg.nn.Conv2d(1, 2, 0), "kernel_size must be >= 1, got 0"),
    (lambda: mg.nn.Conv2d(1, 2, 3, stride=0), "stride must be >= 1, got 0"),
    (lambda: mg.nn.Conv2d(1, 2, 3, padding=-1), "padding must be >= 0, got -1"),
    (lambda: mg.nn.Conv2d(0, 2, 3), "in_channels must be a positive int, got 0"),
    (lambda: mg.nn.ConvTranspose2d(1, 2, 3, stride=2, output_padding=2),
     r"output_padding \(2, 2\) must be smaller than stride \(2, 2\)"),
    (lambda: mg.nn.Dense(2.5, 3), "in_features must be a positive int, got 2.5"),
    (lambda: mg.nn.BatchNorm2d(4, momentum=1.5), r"momentum must be in \[0, 1\]"),
    (lambda: mg.nn.BatchNorm2d(4, eps=0), "eps must be > 0"),
    (lambda: mg.nn.LeakyReLU(float("nan")), "negative_slope must be a finite number"),
    (lambda: mg.nn.Reshape(7, 0), "shape must be positive ints"),
    (lambda: mg.nn.Sequential(mg.nn.ReLU(), "tanh"), "item 1 is str, expected a minigan Module"),
    (lambda: mg.nn.Conv2d(1, 2, 4, padding="same"), "padding='same' needs stride 1 and an odd"),
])
def test_invalid_constructor_arguments(make, message):
    with pytest.raises((ConfigError, ShapeError), match=message):
        make()


def test_unknown_backend():
    with pytest.raises(mg.BackendError, match=r"unknown backend 'torch': expected 'numpy' or "):
        mg.backend.use("torch")
