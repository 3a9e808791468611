"""Unfold (im2col) and fold (col2im): the two data movements that make a convolution a
matrix product.

Images are NHWC: x (N, H, W, C). A convolution with a KH x KW kernel, stride (SH, SW)
and zero padding (PH, PW) looks at OH x OW windows of the padded image,

    OH = (H + 2*PH - KH) // SH + 1,   OW likewise,

window (oh, ow) having its top-left corner at padded pixel (oh*SH, ow*SW).

* ``im2col`` copies every window into one row of a matrix,
  cols (N*OH*OW, KH*KW*C), the row's columns in (kh, kw, c) order -- the order of
  ``w.reshape(KH*KW*C_in, C_out)`` for a Conv2d weight (KH, KW, C_in, C_out). Then
  ``conv2d(x, w) = im2col(x) @ W``.
* ``col2im`` is its adjoint: it adds every row back onto the window it came from (a
  pixel covered by several windows receives the sum) and crops the padding. So the input
  gradient of ``y = im2col(x) @ W`` is ``col2im(gy @ W^T)``, and a transposed
  convolution is ``col2im(x @ W^T)``.

These are the plain definitions, on whole arrays: the reference and device engines run
them as they are, the CPU engine (``cpu.py``) in blocks of samples on its threads, and
the functional core (``minigan/functional/conv.py`` and its neighbours) is written in
them through ``minigan.engine.im2col`` / ``col2im``. They are engine primitives, beneath
the math: this file imports nothing of the functional core. Only API that NumPy and CuPy
share is used; the array module is looked up when a function runs.
"""

from .. import backend


def as_pair(value):
    """An int or an (h, w) pair -> (h, w)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv_output_size(size, kernel, stride, padding):
    """Output length of a convolution along one axis: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_geometry(shape, kernel, stride, padding):
    """((KH, KW), (SH, SW), (PH, PW), (OH, OW)): a convolution's kernel, stride and padding
    as pairs and its output size, over images of ``shape`` (N, H, W, C)."""
    (kh, kw), (sh, sw), (ph, pw) = as_pair(kernel), as_pair(stride), as_pair(padding)
    _, h, w, _ = shape
    return ((kh, kw), (sh, sw), (ph, pw),
            (conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)))


def zero_pad(x, ph, pw):
    """x (N, H, W, C) -> (N, H + 2*PH, W + 2*PW, C) with zeros around; x itself if no padding."""
    if ph == 0 and pw == 0:
        return x
    n, h, w, c = x.shape
    padded = backend.xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    padded[:, ph:ph + h, pw:pw + w] = x
    return padded


def windows(x, out_h, out_w, kh, kw, sh=1, sw=1):
    """A read-only view (N, OH, OW, KH, KW, C) of the KH x KW windows of x (N, H, W, C).

    ``as_strided`` copies nothing: window (oh, ow) starts at pixel (oh*SH, ow*SW) and
    its taps step through x's own rows and columns.
    """
    sn, s_h, s_w, sc = x.strides
    return backend.xp.lib.stride_tricks.as_strided(
        x, shape=(x.shape[0], out_h, out_w, kh, kw, x.shape[3]),
        strides=(sn, s_h * sh, s_w * sw, s_h, s_w, sc))


def im2col(x, kernel, stride, padding):
    """Every window of the zero-padded x as one row: x (N, H, W, C) -> (N*OH*OW, KH*KW*C).

    One copy from the window view: the BLAS wants a contiguous operand.
    """
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = conv_geometry(x.shape, kernel, stride, padding)
    n, h, w, c = x.shape
    cols = backend.xp.empty((n * oh * ow, kh * kw * c), dtype=x.dtype)
    backend.xp.copyto(cols.reshape(n, oh, ow, kh, kw, c),
                      windows(zero_pad(x, ph, pw), oh, ow, kh, kw, sh, sw))
    return cols


def padded_size(size, out, kernel, stride, padding):
    """Rows of the padded image that col2im accumulates into: all that the windows touch,
    and at least the padding plus the image (a last row or column no window reaches,
    which a transposed convolution's output_padding can add, receives nothing)."""
    return max((out - 1) * stride + kernel, padding + size)


def add_windows(x_pad, cols6, sh, sw):
    """x_pad += every window of cols6 (N, OH, OW, KH, KW, C), in place, at its position.

    Tap (i, j) of window (oh, ow) came from x_pad[oh*SH + i, ow*SW + j]: one strided
    slice-add per tap puts all N*OH*OW of them back at once (no scatter, no loop over
    pixels).
    """
    _, oh, ow, kh, kw, _ = cols6.shape
    span_h, span_w = (oh - 1) * sh + 1, (ow - 1) * sw + 1  # the rows/columns one tap covers
    for i in range(kh):
        for j in range(kw):
            x_pad[:, i:i + span_h:sh, j:j + span_w:sw] += cols6[:, :, :, i, j]


def col2im(cols, shape, kernel, stride, padding):
    """The adjoint of im2col: cols (N*OH*OW, KH*KW*C) -> x (N, H, W, C) with ``shape``.

    Every row is added onto its window of a zero-padded image, whose padding is then
    cropped: <im2col(x), cols> == <x, col2im(cols)> for every x and cols.
    """
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = conv_geometry(shape, kernel, stride, padding)
    n, h, w, c = shape
    padded_h, padded_w = padded_size(h, oh, kh, sh, ph), padded_size(w, ow, kw, sw, pw)
    x_pad = backend.xp.zeros((n, padded_h, padded_w, c), dtype=cols.dtype)
    add_windows(x_pad, cols.reshape(n, oh, ow, kh, kw, c), sh, sw)
    return backend.xp.ascontiguousarray(x_pad[:, ph:ph + h, pw:pw + w])
