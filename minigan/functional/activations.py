"""Elementwise activations: ReLU, LeakyReLU, Tanh, Sigmoid.

Each forward takes x of any shape and returns (y, cache); each backward takes
gy = dL/dy (same shape) and returns gx = dL/dx. dtypes are preserved.

Each ``*_double_backward(v, gy, cache)`` differentiates its backward gx = gy * f'(x) once
more, for v = dPen/dgx (a gradient penalty's adjoint, see
docs/backprop_through_the_backprop.md), and returns (ggy, gx):

    dPen/dgy = v * f'(x)            the backward's own rule applied to v
    dPen/dx  = v * gy * f''(x)      None where f'' = 0: ReLU and LeakyReLU (their slope is
                                    piecewise constant; at the kink f'' does not exist)

Each rule is a small function of arrays, written once; ``engine.elementwise`` applies
it (whole on a GPU, in cache-sized blocks on the CPU). Masks are comparisons
(``x > 0``) combined with ``maximum`` and products rather than ``where``: fewer passes
over memory, no extra temporaries.
"""

from .. import backend, engine


def _relu(x):
    return backend.xp.maximum(x, 0)


def _relu_grad(gy, y):
    # dy/dx = 1 where x > 0 else 0 (0 at exactly 0, as PyTorch); x > 0 exactly where y > 0
    return gy * (y > 0)


def relu_forward(x):
    """y = max(x, 0)."""
    y = engine.elementwise(_relu, x)
    return y, y


def relu_backward(gy, cache):
    return engine.elementwise(_relu_grad, gy, cache)


def relu_double_backward(v, gy, cache):
    """(v * [x > 0], None): the mask is constant almost everywhere, so no input term."""
    return relu_backward(v, cache), None


def _leaky_relu(x, slope):
    xp = backend.xp
    if 0.0 <= slope <= 1.0:
        return xp.maximum(x, x * slope)      # max(x, a*x) is the piecewise rule for a in [0, 1]
    y = x * slope
    xp.copyto(y, x, where=x > 0)
    return y


def _leaky_relu_grad(gy, x, slope):
    # dy/dx = 1 where x > 0 else slope (the slope at exactly 0, as PyTorch)
    if 0.0 <= slope <= 1.0:
        # max([x > 0], slope) is exactly 1 or slope
        return gy * backend.xp.maximum((x > 0).astype(gy.dtype), slope)
    # gy [x > 0] + slope gy [x <= 0]: one non-zero term per element, so exact
    gx = gy * (x > 0)
    gx += (gy * slope) * (x <= 0)
    return gx


def leaky_relu_forward(x, negative_slope=0.2):
    """y = x for x > 0, negative_slope * x otherwise."""
    return engine.elementwise(_leaky_relu, x, negative_slope), (x, negative_slope)


def leaky_relu_backward(gy, cache):
    x, negative_slope = cache
    return engine.elementwise(_leaky_relu_grad, gy, x, negative_slope)


def leaky_relu_double_backward(v, gy, cache):
    """(v * slope(x), None): the slope (1 or negative_slope) is constant almost everywhere,
    so no input term."""
    return leaky_relu_backward(v, cache), None


def _tanh(x):
    return backend.xp.tanh(x)


def _tanh_grad(gy, y):
    # dy/dx = 1 - tanh(x)^2 = 1 - y^2
    return gy * (1 - y * y)


def tanh_forward(x):
    """y = tanh(x)."""
    y = engine.elementwise(_tanh, x)
    return y, y


def tanh_backward(gy, cache):
    return engine.elementwise(_tanh_grad, gy, cache)


def _tanh_second(v, gy, y):
    # d/dx (1 - y^2) = -2 y (1 - y^2)
    return (v * gy) * (-2 * y * (1 - y * y))


def tanh_double_backward(v, gy, cache):
    """(v (1 - y^2), -2 y (1 - y^2) v gy): the slope 1 - y^2 depends on x."""
    return tanh_backward(v, cache), engine.elementwise(_tanh_second, v, gy, cache)


def _sigmoid(x):
    # with e = exp(-|x|) (never overflows): sigma(x) = 1/(1+e) for x >= 0 and e/(1+e)
    # for x < 0, so neither branch takes exp of a large positive number and small
    # outputs keep full relative precision
    xp = backend.xp
    e = xp.exp(-xp.abs(x))
    positive = 1 / (1 + e)
    y = e * positive
    xp.copyto(y, positive, where=x >= 0)
    return y


def _sigmoid_grad(gy, y):
    # dy/dx = sigma(x) (1 - sigma(x)) = y (1 - y)
    return gy * (y * (1 - y))


def sigmoid_forward(x):
    """y = 1 / (1 + exp(-x)), stable for any finite x."""
    y = engine.elementwise(_sigmoid, x)
    return y, y


def sigmoid_backward(gy, cache):
    return engine.elementwise(_sigmoid_grad, gy, cache)


def _sigmoid_second(v, gy, y):
    # d/dx y (1 - y) = (1 - 2y) y (1 - y)
    return (v * gy) * ((1 - 2 * y) * (y * (1 - y)))


def sigmoid_double_backward(v, gy, cache):
    """(v y (1 - y), (1 - 2y) y (1 - y) v gy): the slope y (1 - y) depends on x."""
    return sigmoid_backward(v, cache), engine.elementwise(_sigmoid_second, v, gy, cache)
