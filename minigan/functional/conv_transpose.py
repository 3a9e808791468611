"""2-D transposed convolution ("fractionally strided", "deconvolution") on NHWC images.

Layouts
-------
* images are NHWC: x (N, H, W, C_in) -> y (N, OH, OW, C_out);
* the weight is (KH, KW, C_out, C_in): the weight of the Conv2d(C_out -> C_in) whose
  adjoint this is.  With the same w, stride and padding,

      conv_transpose2d(g, w)  ==  d/dx <conv2d(x, w), g>     (Conv2d's input gradient)

  so ConvTranspose2d(C_in, C_out) "undoes the shape" of Conv2d(C_out, C_in);
* output size (PyTorch's rule): OH = (H - 1)*SH - 2*PH + KH + output_padding_h.
  output_padding (< stride) picks among the sizes that a stride-S convolution maps
  back to H; it adds rows at the bottom/right only.

With W = w.reshape(KH*KW*C_out, C_in) and A the convolution ``A(z) = im2col(z) @ W``:

    forward:      y  = A^T x = col2im(x W^T) + b     (Conv2d's input gradient)
    input grad:   dx = A gy  = im2col(gy) @ W        (the adjoint of the adjoint: Conv2d's forward)
    weight grad:  dW = im2col(gy)^T x                (from <y, gy> = <x, im2col(gy) @ W>)
    bias grad:    db = sum of gy over N, OH, OW

``conv_transpose2d_double_backward`` differentiates the backward once more, for a gradient
penalty (see docs/backprop_through_the_backprop.md).
"""

from .. import engine
from ..engine.unfold import as_pair
from ..errors import ShapeError


def conv_transpose_output_size(size, kernel, stride, padding, output_padding):
    """Output length of a transposed convolution along one axis: (in-1)s - 2p + k + op."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def conv_transpose2d_forward(x, w, b, stride=1, padding=0, output_padding=0):
    """y = conv_transpose2d(x, w) + b.

    x (N, H, W, C_in), w (KH, KW, C_out, C_in), b (C_out,) or None; stride, padding and
    output_padding an int or an (h, w) pair  ->  y (N, OH, OW, C_out) with
    OH = (H - 1)*SH - 2*PH + KH + OPH.  Returns (y, cache).
    """
    (sh, sw), (ph, pw), (oph, opw) = as_pair(stride), as_pair(padding), as_pair(output_padding)
    n, h, wd, c_in = x.shape
    kh, kw, c_out, w_in = w.shape
    oh = conv_transpose_output_size(h, kh, sh, ph, oph)
    ow = conv_transpose_output_size(wd, kw, sw, pw, opw)
    if w_in != c_in or oh < 1 or ow < 1:
        raise ShapeError(f"conv_transpose2d: input {tuple(x.shape)} (N, H, W, C_in) does not "
                         f"fit weight {tuple(w.shape)} (KH, KW, C_out, C_in) with stride "
                         f"{(sh, sw)}, padding {(ph, pw)}, output_padding {(oph, opw)}")
    # x plays the role of the output gradient of the Conv2d(C_out -> C_in) with weight w
    w2 = w.reshape(kh * kw * c_out, c_in)
    y = engine.col2im_product(x.reshape(n * h * wd, c_in), w2.T,      # col2im(x W^T)
                              (n, oh, ow, c_out), (kh, kw), (sh, sw), (ph, pw))
    if b is not None:
        y += b
    return y, (x, w, (sh, sw), (ph, pw), b is not None)


def conv_transpose2d_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients of conv_transpose2d from gy = dL/dy (N, OH, OW, C_out).

    Returns (gx (N, H, W, C_in), gw (KH, KW, C_out, C_in), gb (C_out,)), with None for
    what was not asked for (gb is also None without a bias).  gy is not modified.
    """
    # y = A^T x with A(z) = im2col(z) @ W  =>  dx = A gy = im2col(gy) @ W, and from
    # <y, gy> = <x, im2col(gy) @ W>:  dW = im2col(gy)^T x,  db = sum gy
    x, w, stride, padding, has_bias = cache
    n, h, wd, c_in = x.shape
    kh, kw, c_out, _ = w.shape
    gx = gw = gb = None
    if not (need_input_grad or need_param_grads):
        return gx, gw, gb
    # the conv of gy has exactly H x W windows (output_padding < stride adds none)
    cols = engine.im2col(gy, (kh, kw), stride, padding)              # (N*H*W, KH*KW*C_out)
    if need_input_grad:
        gx = engine.matmul(cols, w.reshape(kh * kw * c_out, c_in)).reshape(n, h, wd, c_in)
    if need_param_grads:
        gw = engine.matmul(cols.T, x.reshape(n * h * wd, c_in)).reshape(w.shape)
        if has_bias:
            gb = engine.channel_sums(gy)
    return gx, gw, gb


def conv_transpose2d_double_backward(v, gy, cache, need_param_grads=True):
    """Differentiate the input gradient gx = im2col(gy) @ W once more, for v = dPen/dgx
    (N, H, W, C_in); gy is dL/dy (N, OH, OW, C_out).

    Returns (ggy (N, OH, OW, C_out), gw (KH, KW, C_out, C_in) or None when not asked for):
    dPen/dgy and dPen/dW. gx depends on neither x nor b: no input term, no bias gradient.
    """
    # <v, im2col(gy) W> = <col2im(v W^T), gy>:  dPen/dgy = conv_transpose2d(v, w) without
    # the bias (at gy's size), dPen/dW = im2col(gy)^T v (the weight gradient with v in the
    # place of x)
    _, w, stride, padding, _ = cache
    n, h, wd, c_in = v.shape
    kh, kw, c_out, _ = w.shape
    ggy = engine.col2im_product(v.reshape(n * h * wd, c_in), w.reshape(kh * kw * c_out, c_in).T,
                                tuple(gy.shape), (kh, kw), stride, padding)
    gw = None
    if need_param_grads:
        gw = conv_transpose2d_backward(gy, (v, w, stride, padding, False),
                                       need_input_grad=False)[1]
    return ggy, gw
