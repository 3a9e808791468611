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

How it is computed
------------------
forward:      Conv2d's input gradient (``conv2d_input_grad``: GEMM + col2im, or phase
              decomposition at stride 1).
input grad:   the adjoint of the adjoint is the convolution itself: im2col of gy and
              one GEMM, exactly Conv2d's forward.
weight grad:  one GEMM on that same im2col matrix.
"""

from .. import backend, parallel
from ..errors import ShapeError
from ..workspace import scratch
from .conv import as_pair, conv2d_input_grad, im2col, weight_grad, zero_pad


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
    y = conv2d_input_grad(x, w, (sh, sw), (ph, pw), (oh, ow), bias=b)
    return y, (x, w, (sh, sw), (ph, pw), b is not None)


def conv_transpose2d_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients of conv_transpose2d from gy = dL/dy (N, OH, OW, C_out).

    Returns (gx (N, H, W, C_in), gw (KH, KW, C_out, C_in), gb (C_out,)), with None for
    what was not asked for (gb is also None without a bias).  gy is not modified.
    """
    # y = A^T x with A = conv2d(., w)  =>  dx = A gy = cols(gy) @ W,  and from
    # <y, gy> = <x, cols(gy) @ W>:  dW = cols(gy)^T x,  db = sum gy
    xp = backend.xp
    x, w, (sh, sw), (ph, pw), has_bias = cache
    n, h, wd, c_in = x.shape
    kh, kw, c_out, _ = w.shape
    gx = gw = gb = None
    if not (need_input_grad or need_param_grads):
        return gx, gw, gb
    # the conv of gy has exactly H x W outputs (output_padding < stride is dropped);
    # cols is a temporary of this call only: built in a reused scratch buffer (workspace.py)
    cols = scratch().empty("conv_t.cols", (n * h * wd, kh * kw * c_out), gy.dtype)
    if need_input_grad:
        gx = xp.empty((n, h, wd, c_in), dtype=gy.dtype)
        w2, gx2 = w.reshape(kh * kw * c_out, c_in), gx.reshape(n * h * wd, c_in)

    def part(start, stop):  # speed: samples [start, stop) on one of minigan.parallel's threads
        rows = slice(start * h * wd, stop * h * wd)
        im2col(zero_pad(gy[start:stop], ph, pw, "conv_t.padded"), kh, kw, sh, sw, h, wd,
               out=cols[rows])                                       # (N*H*W, KH*KW*C_out)
        if need_input_grad:
            xp.matmul(cols[rows], w2, out=gx2[rows])

    parallel.chunks(n, part)
    if need_param_grads:
        gw = weight_grad(cols, x.reshape(n * h * wd, c_in)).reshape(w.shape)
        if has_bias:
            gb = gy.sum(axis=(0, 1, 2))
    return gx, gw, gb
