"""The fade that blends a new path into an old one (Karras et al. 2018, "Progressive
Growing of GANs", §3): two outputs of the same shape, mixed by alpha in [0, 1].

    forward:   y = alpha * y_new + (1 - alpha) * y_old
    backward:  g_new = alpha * gy,   g_old = (1 - alpha) * gy

Both paths start from the same input x, so dL/dx is the *sum* of what the two paths send
back -- the chain rule over the two routes from x to y (``minigan.nn.Fade`` adds them).
"""

from .. import engine


def _blend(y_new, y_old, alpha):
    return alpha * y_new + (1 - alpha) * y_old


def _scale(g, factor):
    return g * factor


def _add(a, b):
    return a + b


def fade_forward(y_new, y_old, alpha):
    """y = alpha * y_new + (1 - alpha) * y_old; y_new, y_old of one shape and dtype,
    alpha a number in [0, 1]. Returns (y, cache); the cache is alpha."""
    return engine.elementwise(_blend, y_new, y_old, alpha), alpha


def fade_backward(gy, cache):
    """(g_new, g_old) = (alpha gy, (1 - alpha) gy) from gy = dL/dy; gy is not modified."""
    # dy/dy_new = alpha, dy/dy_old = 1 - alpha (elementwise constants)
    alpha = cache
    return engine.elementwise(_scale, gy, alpha), engine.elementwise(_scale, gy, 1 - alpha)


def sum_of_paths(gx_new, gx_old):
    """dL/dx when x fed both paths: the two input gradients added."""
    return engine.elementwise(_add, gx_new, gx_old)
