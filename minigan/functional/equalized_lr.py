"""Equalised learning rate (Karras et al. 2018, "Progressive Growing of GANs", §4.1).

A layer keeps a weight W drawn from N(0, 1) and computes with the scaled weight

    W_used = c * W,      c = gain / sqrt(fan_in)       (He's constant; gain sqrt(2))

so at the start W_used has He's initial scale. The point is the optimiser: Adam's step
is about lr in every parameter whatever its gradient's size, so a layer with a large
fan-in -- whose weights need to be small -- would change relatively faster. Training W
with the constant c outside it makes the step in W_used about c * lr: proportional to
the weight's scale, equal in relative terms for every layer.

    forward:   W_used = c * W
    backward:  dL/dW = c * dL/dW_used
"""

from .. import engine


def _scale(w, factor):
    return w * factor


def equalized_weight_forward(w, scale):
    """W_used = scale * w (w's shape and dtype). Returns (W_used, cache = scale)."""
    return engine.elementwise(_scale, w, scale), scale


def equalized_weight_backward(g_used, cache):
    """dL/dW from dL/dW_used; g_used is not modified."""
    # W_used = c W elementwise  =>  dL/dW = c dL/dW_used
    return engine.elementwise(_scale, g_used, cache)
