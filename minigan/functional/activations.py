"""Elementwise activations: ReLU, LeakyReLU, Tanh, Sigmoid.

Each forward takes x of any shape and returns (y, cache); each backward takes
gy = dL/dy (same shape) and returns gx = dL/dx. dtypes are preserved.

Masks are built with comparisons (``x > 0``) and ``maximum``/``copyto(where=)``
rather than ``where``: one pass over memory, no extra temporaries (DESIGN.md).
"""

from .. import backend


def relu_forward(x):
    """y = max(x, 0)."""
    xp = backend.xp
    y = xp.maximum(x, 0)
    return y, y


def relu_backward(gy, cache):
    # dy/dx = 1 where x > 0 else 0 (0 at exactly 0, as PyTorch)  =>  gx = gy * (y > 0)
    y = cache
    return gy * (y > 0)


def leaky_relu_forward(x, negative_slope=0.2):
    """y = x for x > 0, negative_slope * x otherwise."""
    xp = backend.xp
    if 0.0 <= negative_slope <= 1.0:
        # for slopes in [0, 1], max(x, a*x) is exactly the piecewise definition
        y = xp.maximum(x, x * negative_slope)
    else:
        y = x * negative_slope
        xp.copyto(y, x, where=x > 0)
    return y, (x, negative_slope)


def leaky_relu_backward(gy, cache):
    # dy/dx = 1 where x > 0 else negative_slope (the slope at exactly 0, as PyTorch)
    x, negative_slope = cache
    # gx = gy * [x > 0] + negative_slope * gy * [x <= 0]: every element gets exactly one
    # non-zero term, so this is exact; mask products are several times faster than
    # copyto(where=) on large arrays (measured: benchmarks/bench_discriminator.py)
    gx = gy * (x > 0)
    negative_part = gy * (x <= 0)
    negative_part *= negative_slope
    gx += negative_part
    return gx


def tanh_forward(x):
    """y = tanh(x)."""
    xp = backend.xp
    y = xp.tanh(x)
    return y, y


def tanh_backward(gy, cache):
    # dy/dx = 1 - tanh(x)^2 = 1 - y^2
    y = cache
    return gy * (1 - y * y)


def sigmoid_forward(x):
    """y = 1 / (1 + exp(-x)), stable for any finite x.

    With e = exp(-|x|) (never overflows): sigma(x) = 1/(1+e) for x >= 0 and
    e/(1+e) for x < 0, so neither branch computes exp of a large positive number
    and small outputs keep full relative precision.
    """
    xp = backend.xp
    e = xp.exp(-xp.abs(x))
    positive = 1 / (1 + e)
    y = e * positive
    xp.copyto(y, positive, where=x >= 0)
    return y, y


def sigmoid_backward(gy, cache):
    # dy/dx = sigma(x) (1 - sigma(x)) = y (1 - y)
    y = cache
    return gy * (y * (1 - y))
