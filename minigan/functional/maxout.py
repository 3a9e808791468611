"""Maxout (Goodfellow et al. 2013): each unit is the largest of K affine pieces.

    z = x @ W + b                    x (N, IN), W (IN, OUT*K), b (OUT*K,), z (N, OUT*K)
    y_nj = max_k z_n,(jK + k)        y (N, OUT): the K consecutive columns jK .. jK+K-1
                                     of z are the pieces of unit j

W is one Dense weight whose columns are grouped by unit (piece k of unit j is column
jK + k), which is how ``tf.contrib.layers.maxout`` and PacGAN's code group them, and how
``z.view(N, OUT, K).max(-1)`` does in PyTorch.

Ties: where two pieces of a unit are equal and largest, the *first* (lowest k) is the
maximum and alone receives the gradient -- as ``torch.max(z, dim)`` and ``argmax`` choose
it. Off ties (almost everywhere) y is piecewise affine in x: the winning piece is constant
nearby, so the gradient is that piece's and the second derivative in x is 0.

``maxout_double_backward`` differentiates the backward once more, for a gradient penalty
(see docs/backprop_through_the_backprop.md).
"""

from .. import backend, engine
from .dense import dense_backward


def _winner_mask(z3):
    """(N, OUT, K) -> (N, OUT, K) in z's dtype: 1 at each unit's first largest piece, else 0."""
    xp = backend.xp
    first = xp.argmax(z3, axis=2)                             # (N, OUT): first max, as torch
    return (first[:, :, None] == xp.arange(z3.shape[2])).astype(z3.dtype)


def maxout_forward(x, w, b, pieces):
    """y = max over pieces of (x @ w + b).  x (N, IN), w (IN, OUT*K), b (OUT*K,) or None,
    pieces = K -> y (N, OUT)."""
    z = engine.matmul(x, w)
    if b is not None:
        z += b
    z3 = z.reshape(x.shape[0], -1, pieces)                    # (N, OUT, K)
    mask = _winner_mask(z3)
    y = (z3 * mask).sum(axis=2)                               # the winner's value, exactly
    return y, (x, w, b is not None, mask)


def _piece_gradient(gy, mask):
    """dL/dz (N, OUT*K) from gy = dL/dy (N, OUT): gy goes to the winning piece only."""
    return (mask * gy[:, :, None]).reshape(gy.shape[0], -1)


def maxout_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients w.r.t. x, w and b from gy = dL/dy (N, OUT).

    Returns (gx (N, IN), gw (IN, OUT*K), gb (OUT*K,)); None for what was not asked for.
    """
    # y_nj = z_n,(jK + k*) for the winning piece k*  =>  dL/dz = gy at the winner, 0 at the
    # other pieces; then z = x W + b is a Dense layer: dx = dz W^T, dW = x^T dz, db = sum dz
    x, w, has_bias, mask = cache
    return dense_backward(_piece_gradient(gy, mask), (x, w, has_bias), need_input_grad,
                          need_param_grads)


def maxout_double_backward(v, gy, cache, need_param_grads=True):
    """Differentiate the input gradient gx = (mask * gy) W^T once more, for v = dPen/dgx
    (N, IN).

    Returns (ggy (N, OUT), gw (IN, OUT*K) or None when not asked for): dPen/dgy and dPen/dW.
    The mask is constant off ties, so gx depends on neither x nor b: there is no input
    term and no bias gradient.
    """
    # <v, (mask gy) W^T> = <v W, mask gy>:  dPen/dgy = sum over the pieces of mask * (v W)
    # (the winning piece of the layer on v, without its bias), dPen/dW = v^T (mask gy)
    _, w, _, mask = cache
    n, units, pieces = mask.shape
    ggy = (engine.matmul(v, w).reshape(n, units, pieces) * mask).sum(axis=2)
    gw = engine.matmul(v.T, _piece_gradient(gy, mask)) if need_param_grads else None
    return ggy, gw
