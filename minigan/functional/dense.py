"""Fully connected (affine) layer: ``y = x @ W + b``.

Shapes: x (N, IN), W (IN, OUT), b (OUT,), y (N, OUT).

``dense_double_backward`` differentiates the backward once more, for a gradient penalty
(see docs/backprop_through_the_backprop.md).
"""

from .. import engine


def dense_forward(x, w, b):
    """y = x @ w + b.  x (N, IN), w (IN, OUT), b (OUT,) or None -> y (N, OUT)."""
    y = engine.matmul(x, w)
    if b is not None:
        y += b
    return y, (x, w, b is not None)


def dense_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients of the loss w.r.t. x, w and b from gy = dL/dy (N, OUT).

    Returns (gx (N, IN), gw (IN, OUT), gb (OUT,)); None for what was not asked for.
    """
    # y_nj = sum_i x_ni W_ij + b_j  =>  dL/dx = gy W^T,  dL/dW = x^T gy,  dL/db = sum_n gy
    x, w, has_bias = cache
    gx = engine.matmul(gy, w.T) if need_input_grad else None
    gw = engine.matmul(x.T, gy) if need_param_grads else None
    gb = engine.channel_sums(gy) if (need_param_grads and has_bias) else None
    return gx, gw, gb


def dense_double_backward(v, gy, cache, need_param_grads=True):
    """Differentiate the input gradient gx = gy W^T once more, for v = dPen/dgx (N, IN).

    Returns (ggy (N, OUT), gw (IN, OUT) or None when not asked for): dPen/dgy and dPen/dW.
    gx depends on neither x nor b: there is no input term and no bias gradient.
    """
    # <v, gy W^T> = <v W, gy>:  dPen/dgy = v W (the layer on v, without its bias),
    # dPen/dW = v^T gy (the weight gradient with v in the place of x)
    _, w, _ = cache
    ggy = engine.matmul(v, w)
    gw = engine.matmul(v.T, gy) if need_param_grads else None
    return ggy, gw
