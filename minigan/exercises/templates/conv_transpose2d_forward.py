"""Exercise: the transposed convolution's forward pass, as the adjoint of Conv2d.

Task
    Complete ``conv_transpose2d_forward``. With the same weight w, stride and padding,
    a transposed convolution is exactly the input gradient of a convolution:
        conv_transpose2d(x, w) = d/dz <conv2d(z, w), x>
    so the forward pass is "col2im of a product": each input pixel's C_in values,
    multiplied by W^T, are spread onto a KH x KW window of the output, overlapping
    windows adding up. Then add the bias.

Shapes (images are NHWC)
    x (N, H, W, C_in), w (KH, KW, C_out, C_in) -- the weight of the Conv2d(C_out -> C_in)
    whose adjoint this is --, b (C_out,) or None
    y (N, OH, OW, C_out), OH = (H - 1)*SH - 2*PH + KH + OPH (output_padding adds rows at
    the bottom and columns at the right)

Return (y, cache) with the cache that ``minigan.functional.conv_transpose2d_forward``
returns, so that minigan's backward can use it:
    cache = (x, w, stride, padding, has_bias)     stride, padding as (h, w) pairs

You may use ``minigan.functional.col2im`` and ``im2col``; not the library's
conv_transpose2d_forward itself. Do not change x or w; keep the dtype.

Hint
    docs/layers/conv_transpose2d.md (the picture of the matrices), and
    minigan/functional/unfold.py for what col2im adds where.

Check it:  minigan exercises check DIR conv_transpose2d_forward
"""

import numpy as np  # noqa: F401

from minigan.functional import col2im, im2col  # noqa: F401


def conv_transpose2d_forward(x, w, b, stride=1, padding=0, output_padding=0):
    # TODO: compute y and return (y, cache)
    raise NotImplementedError("conv_transpose2d_forward: your code goes here")
