"""Exercise: a double backward, the piece a gradient penalty needs.

Task
    A gradient penalty (WGAN-GP, R1) is a function Pen of D's INPUT gradient, and
    Dense's input gradient is  gx = gy @ w.T  (a function of gy and w, not of x or b).
    Complete ``dense_double_backward``: given v = dPen/dgx, return
        ggy = dPen/dgy   and   gw = dPen/dw
    for Pen depending on gx only (the chain rule through gx = gy w^T).

Shapes
    v, gx (N, IN); gy, ggy (N, OUT); w, gw (IN, OUT)

The cache is what ``minigan.functional.dense_forward(x, w, b)`` returns:
    cache = (x, w, has_bias)

Return gw = None when need_param_grads is False. Do not change v, gy or the cache;
keep the dtype.

Hint
    docs/backprop_through_the_backprop.md: write <v, gy w^T> and move w to the other
    side of the inner product.

Check it:  minigan exercises check DIR dense_double_backward
"""

import numpy as np  # noqa: F401


def dense_double_backward(v, gy, cache, need_param_grads=True):
    x, w, has_bias = cache
    # TODO: compute ggy and gw
    raise NotImplementedError("dense_double_backward: your code goes here")
