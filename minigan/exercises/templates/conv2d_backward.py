"""Exercise: the backward pass of a 2-D convolution, by im2col and col2im.

Task
    Complete ``conv2d_backward``. The forward pass was one matrix product on the
    windows of the (zero-padded) input:
        cols = im2col(x)                       (N*OH*OW, KH*KW*C_in), one row per window
        y    = cols @ W + b,   W = w.reshape(KH*KW*C_in, C_out)
    Return (gx, gw, gb) from gy = dL/dy. For gx, each window's gradient must be added
    back onto the pixels it was copied from (col2im); overlapping windows add up.

Shapes (images are NHWC)
    x, gx (N, H, W, C_in); w, gw (KH, KW, C_in, C_out); b, gb (C_out,)
    y, gy (N, OH, OW, C_out), OH = (H + 2*PH - KH) // SH + 1

The cache is what ``minigan.functional.conv2d_forward(x, w, b, stride, padding)``
returns:
    cache = (cols, w, x_shape, stride, padding, has_bias)
    stride and padding are (h, w) pairs; x_shape is (N, H, W, C_in).

You may use ``minigan.functional.im2col`` and ``col2im`` (the data movements), or
write your own loops over the kernel taps; not ``conv2d_backward`` itself. Return None
in place of what was not asked for. Do not change gy or the cache; keep the dtype.

Hint
    docs/layers/conv2d.md: dW = cols^T gy, db = sum of gy over N, OH, OW,
    dx = col2im(gy W^T).

Check it:  minigan exercises check DIR conv2d_backward
"""

import numpy as np  # noqa: F401

from minigan.functional import col2im, im2col  # noqa: F401


def conv2d_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    cols, w, x_shape, stride, padding, has_bias = cache
    # TODO: compute gx, gw and gb
    raise NotImplementedError("conv2d_backward: your code goes here")
