"""2-D convolution (cross-correlation, as in every DL framework) on NHWC images.

Layouts
-------
* images are NHWC: x (N, H, W, C) -- batch, height, width, channels;
* a Conv2d weight is (KH, KW, C_in, C_out), so ``W = w.reshape(KH*KW*C_in, C_out)`` is
  the matrix that multiplies one flattened window;
* output size (PyTorch's rule): OH = (H + 2*PH - KH) // SH + 1, likewise OW.

    y[n, oh, ow, co] = b[co] + sum_{kh,kw,ci} x_pad[n, oh*SH + kh, ow*SW + kw, ci] w[kh,kw,ci,co]

The whole convolution is one matrix product on the windows (``minigan/engine/unfold.py``):

    forward:      cols = im2col(x)              (N*OH*OW, KH*KW*C_in), one row per window
                  y    = cols @ W + b
    weight grad:  dW   = cols^T gy              (the same cols, kept in the cache)
    bias grad:    db   = sum of gy over N, OH, OW
    input grad:   dx   = col2im(gy W^T)         each window's gradient added back in place

``minigan.engine`` runs the primitives (``matmul``, ``im2col``, ``col2im_product`` --
col2im of a product --, ``channel_sums``): whole on a GPU, in pieces on the CPU's cores.
``conv_reference.py`` computes the same gradients with a loop over the kernel taps.

``conv2d_double_backward`` differentiates the backward once more, for a gradient penalty
(see docs/backprop_through_the_backprop.md).
"""

from .. import engine
from ..engine.unfold import as_pair, conv_output_size
from ..errors import ShapeError


def conv2d_forward(x, w, b, stride=1, padding=0):
    """y = conv2d(x, w) + b.

    x (N, H, W, C_in), w (KH, KW, C_in, C_out), b (C_out,) or None; stride and padding
    an int or an (h, w) pair  ->  y (N, OH, OW, C_out), OH = (H + 2*PH - KH) // SH + 1.
    Returns (y, cache); the cache holds the im2col matrix for the weight gradient.
    """
    (sh, sw), (ph, pw) = as_pair(stride), as_pair(padding)
    n, h, wd, c_in = x.shape
    kh, kw, w_in, c_out = w.shape
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    if w_in != c_in or oh < 1 or ow < 1:
        raise ShapeError(f"conv2d: input {tuple(x.shape)} (N, H, W, C_in) does not fit weight "
                         f"{tuple(w.shape)} (KH, KW, C_in, C_out) with stride {(sh, sw)}, "
                         f"padding {(ph, pw)}")
    cols = engine.im2col(x, (kh, kw), (sh, sw), (ph, pw))          # (N*OH*OW, KH*KW*C_in)
    y = engine.matmul(cols, w.reshape(kh * kw * c_in, c_out))      # (N*OH*OW, C_out)
    if b is not None:
        y += b
    return y.reshape(n, oh, ow, c_out), (cols, w, tuple(x.shape), (sh, sw), (ph, pw),
                                         b is not None)


def conv2d_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients of conv2d from gy = dL/dy (N, OH, OW, C_out).

    Returns (gx (N, H, W, C_in), gw (KH, KW, C_in, C_out), gb (C_out,)), with None for
    what was not asked for (gb is also None without a bias).  gy is not modified.
    """
    # y = cols @ W + b  =>  dW = cols^T gy,  db = sum_rows gy,  dcols = gy W^T, and the
    # gradient of each window's pixels is summed back into place: dx = col2im(dcols)
    cols, w, x_shape, stride, padding, has_bias = cache
    kh, kw, c_in, c_out = w.shape
    g = gy.reshape(-1, c_out)                                          # (N*OH*OW, C_out)
    gx = gw = gb = None
    if need_input_grad:
        w_t = w.reshape(kh * kw * c_in, c_out).T                       # (C_out, KH*KW*C_in)
        gx = engine.col2im_product(g, w_t, x_shape, (kh, kw), stride, padding)
    if need_param_grads:
        gw = engine.matmul(cols.T, g).reshape(w.shape)
        if has_bias:
            gb = engine.channel_sums(gy)
    return gx, gw, gb


def conv2d_double_backward(v, gy, cache, need_param_grads=True):
    """Differentiate the input gradient gx = col2im(gy W^T) once more, for v = dPen/dgx
    (N, H, W, C_in).

    Returns (ggy (N, OH, OW, C_out), gw (KH, KW, C_in, C_out) or None when not asked for):
    dPen/dgy and dPen/dW. gx depends on neither x nor b: no input term, no bias gradient.
    """
    # col2im is im2col's adjoint:  <v, col2im(gy W^T)> = <im2col(v) W, gy>, so
    # dPen/dgy = conv2d(v, w) without the bias, dPen/dW = im2col(v)^T gy (the weight
    # gradient with v in the place of x)
    _, w, _, stride, padding, _ = cache
    ggy, cache_v = conv2d_forward(v, w, None, stride, padding)
    gw = conv2d_backward(gy, cache_v, need_input_grad=False)[1] if need_param_grads else None
    return ggy, gw
