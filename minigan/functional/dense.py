"""Fully connected (affine) layer: ``y = x @ W + b``.

Shapes: x (N, IN), W (IN, OUT), b (OUT,), y (N, OUT).
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
