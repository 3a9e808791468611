"""2-D convolution (cross-correlation, as in every DL framework) on NHWC images.

Layouts
-------
* images are NHWC: x (N, H, W, C) -- batch, height, width, channels.  Channels last
  means that one pixel's channels are contiguous, so a kernel window is a few
  contiguous runs of memory and the whole convolution becomes one matrix product;
* a Conv2d weight is (KH, KW, C_in, C_out), so ``w.reshape(KH*KW*C_in, C_out)`` is
  the matrix that multiplies one flattened window;
* output size (PyTorch's rule): OH = (H + 2*PH - KH) // SH + 1, likewise OW.

    y[n, oh, ow, co] = b[co] + sum_{kh,kw,ci} x_pad[n, oh*SH + kh, ow*SW + kw, ci] w[kh,kw,ci,co]

How it is computed
------------------
forward:      im2col -- every window of the padded input copied once into a matrix
              cols (N*OH*OW, KH*KW*C_in) -- then ONE GEMM ``cols @ W``.
weight grad:  one GEMM ``cols^T @ gy`` on the same matrix (kept in the cache).
input grad:   a transposed convolution (``conv2d_input_grad``), which also serves as
              ConvTranspose2d's forward: one exact GEMM gy W^T and KH*KW shifted
              slice-adds (col2im), or at stride 1 *phase (sub-pixel) decomposition*.

Only API shared by NumPy and CuPy is used; the array module is looked up at call time.
"""

from .. import backend, parallel
from ..errors import ShapeError
from ..workspace import scratch


def as_pair(value):
    """An int or an (h, w) pair -> (h, w)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv_output_size(size, kernel, stride, padding):
    """Output length of a convolution along one axis: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - kernel) // stride + 1


# ---------------------------------------------------------------------------- helpers

def embed(x, top, left, height, width, scratch_name=None):
    """A zero (N, height, width, C) array holding x (N, H, W, C) with x[:, 0, 0] at (top, left).

    Offsets may be negative and x may stick out: whatever falls outside is dropped.
    This is zero-padding (top, left >= 0) and cropping in one small function.
    With ``scratch_name`` the array is a reused scratch buffer (``minigan.workspace``):
    only for a temporary that the caller consumes before returning.
    """
    xp = backend.xp
    n, h, w, c = x.shape
    if scratch_name is None:
        out = xp.zeros((n, height, width, c), dtype=x.dtype)
    else:
        out = scratch().zeros(scratch_name, (n, height, width, c), x.dtype)
    h0, h1 = max(0, -top), min(h, height - top)  # the rows of x that land inside
    w0, w1 = max(0, -left), min(w, width - left)
    if h0 < h1 and w0 < w1:
        out[:, h0 + top:h1 + top, w0 + left:w1 + left] = x[:, h0:h1, w0:w1]
    return out


def zero_pad(x, ph, pw, scratch_name=None):
    """x (N, H, W, C) -> (N, H + 2*ph, W + 2*pw, C), zeros around; x itself when no padding.

    ``scratch_name``: build it in a reused scratch buffer (see ``embed``)."""
    if ph == 0 and pw == 0:
        return x
    h, w = x.shape[1], x.shape[2]
    return embed(x, ph, pw, h + 2 * ph, w + 2 * pw, scratch_name)


def windows(x, out_h, out_w, kh, kw, sh=1, sw=1):
    """A read-only view (N, OH, OW, KH, KW, C) of all KH x KW windows of x (N, H, W, C).

    ``as_strided`` copies nothing: window (oh, ow) starts at pixel (oh*SH, ow*SW) and
    its taps step through x's own rows and columns.
    """
    xp = backend.xp
    sn, s_h, s_w, sc = x.strides
    return xp.lib.stride_tricks.as_strided(
        x, shape=(x.shape[0], out_h, out_w, kh, kw, x.shape[3]),
        strides=(sn, s_h * sh, s_w * sw, s_h, s_w, sc))


def im2col(x, kh, kw, sh, sw, out_h, out_w, out=None):
    """All windows of x (N, H, W, C) as a matrix cols (N*OH*OW, KH*KW*C), one row a window.

    One copy from the strided window view into a contiguous buffer: the BLAS
    GEMM that follows wants a contiguous operand, and one vectorised copy is far
    cheaper than building the rows with Python loops.  Columns are ordered (kh, kw, c),
    matching ``w.reshape(KH*KW*C, -1)``.  ``out``: a contiguous array of that shape to
    build it in (a reused buffer, or rows of a bigger matrix) instead of a fresh one.
    """
    xp = backend.xp
    n, c = x.shape[0], x.shape[3]
    shape = (n * out_h * out_w, kh * kw * c)
    cols = xp.empty(shape, dtype=x.dtype) if out is None else out
    xp.copyto(cols.reshape(n, out_h, out_w, kh, kw, c), windows(x, out_h, out_w, kh, kw, sh, sw))
    return cols


def weight_grad(cols, g):
    """cols^T g: cols (M, K), g (M, C) -> (K, C), the weight gradient of y = cols @ W.

    Speed: the rows of the result are split over ``minigan.parallel``'s threads (each
    row is its own set of dot products, so the split changes nothing but the rounding).
    """
    xp = backend.xp
    gw = xp.empty((cols.shape[1], g.shape[1]), dtype=g.dtype)

    def part(start, stop):
        xp.matmul(cols[:, start:stop].T, g, out=gw[start:stop])

    parallel.chunks(cols.shape[1], part, min_size=64)
    return gw


def phase_kernels(w, sh, sw, th, tw):
    """The s*s sub-kernels of w, flipped, side by side: (TH*TW*C_out, SH*SW*C_in).

    w (KH, KW, C_in, C_out) is a Conv2d weight.  Phase (rh, rw) owns the taps
    w[rh::SH, rw::SW] -- (a, b) of them, a <= TH, b <= TW -- which are flipped and put in
    the last a x b slots of a TH x TW window; the unused slots stay 0 (a phase with no
    taps, when the kernel is smaller than the stride, gives all zeros).
    """
    xp = backend.xp
    c_in, c_out = w.shape[2], w.shape[3]
    k = xp.zeros((th, tw, c_out, sh, sw, c_in), dtype=w.dtype)
    for rh in range(sh):
        for rw in range(sw):
            taps = w[rh::sh, rw::sw]  # (a, b, C_in, C_out)
            a, b = taps.shape[:2]
            if a and b:
                k[th - a:, tw - b:, :, rh, rw, :] = taps[::-1, ::-1].transpose(0, 1, 3, 2)
    return k.reshape(th * tw * c_out, sh * sw * c_in)


# ---------------------------------------------------------------------------- input gradient

def conv2d_input_grad(gy, w, stride, padding, in_size, bias=None):
    """dL/dx of y = conv2d(x, w) given gy = dL/dy: the transposed convolution of gy.

    gy (N, OH, OW, C_out), w (KH, KW, C_in, C_out), in_size = (H, W) -> gx (N, H, W, C_in).
    ``bias`` (C_in,): added to every pixel of the result (ConvTranspose2d's bias, folded
    into the last copy instead of one more pass over the output).

    Two exact formulations of the same sum, picked by shape for speed (both are
    checked against finite differences and PyTorch by the tests):

    * ``input_grad_col2im`` -- one GEMM with exactly the minimal FLOPs, then KH*KW
      shifted slice-adds.  Used when the stride is > 1 (the phase form below would do
      TH*TW*S*S / (KH*KW) of the FLOPs, 36/25 for 5x5 stride 2) or when the gradient
      is thin (KH*KW*C_in <= C_out, e.g. a 1-channel image: the phase GEMM would have
      only S*S*C_in output columns and a large gather).
    * ``input_grad_phase`` -- phase (sub-pixel) decomposition: one gather and one
      GEMM, no additions at all; the plain correlation with the flipped kernel when
      the stride is 1.
    """
    (sh, sw) = as_pair(stride)
    kh, kw, c_in, c_out = w.shape
    if sh > 1 or sw > 1 or kh * kw * c_in <= c_out:
        return input_grad_col2im(gy, w, stride, padding, in_size, bias)
    gx = input_grad_phase(gy, w, stride, padding, in_size)
    if bias is not None:
        gx += bias
    return gx


# A batch is processed in chunks of samples whose (N*OH*OW, KH*KW*C_in) GEMM output
# stays near 2**20 values (4 MiB in float32): it is added back while still in cache,
# and generating 1,000 images does not allocate a 300 MB temporary.
COL2IM_CHUNK_VALUES = 2 ** 20


def input_grad_col2im(gy, w, stride, padding, in_size, bias=None):
    """conv2d_input_grad as GEMM + col2im (same arguments and result).

    dcols = gy W^T (N*OH*OW, KH*KW*C_in) holds, for every output pixel, what each tap
    of its window sends back to the input: x_pad[n, oh*S + kh, ow*S + kw] receives
    dcols[n, oh, ow, kh, kw].  So for each tap (kh, kw) one strided slice-add of an
    (N, OH, OW, C_in) block puts it in place -- KH*KW vectorised additions, no scatter
    (``add.at``), every FLOP of the GEMM is needed.  The padding is cropped at the end.
    """
    xp = backend.xp
    (sh, sw), (ph, pw), (h, wd) = as_pair(stride), as_pair(padding), in_size
    n, oh, ow, c_out = gy.shape
    kh, kw, c_in, _ = w.shape
    # the padded input rows the windows touch, and at least those gx needs
    hp, wp = max((oh - 1) * sh + kh, ph + h), max((ow - 1) * sw + kw, pw + wd)
    w_t = w.reshape(kh * kw * c_in, c_out).T                          # (C_out, KH*KW*C_in)
    gy2 = gy.reshape(n * oh * ow, c_out)
    gx = xp.empty((n, h, wd, c_in), dtype=gy.dtype)                   # fresh: returned
    # speed: a chunk of samples at a time, in reused scratch buffers (minigan/workspace.py),
    # and the samples split over minigan.parallel's threads, each with its own scratch
    chunk = max(1, min(n, COL2IM_CHUNK_VALUES // (oh * ow * kh * kw * c_in)))

    def part(first, last):
        dcols = scratch().empty("col2im.dcols", (chunk * oh * ow, kh * kw * c_in), gy.dtype)
        gx_pad = scratch().empty("col2im.gx_pad", (chunk, hp, wp, c_in), gy.dtype)
        for start in range(first, last, chunk):
            m = min(chunk, last - start)
            d = dcols[:m * oh * ow]
            xp.matmul(gy2[start * oh * ow:(start + m) * oh * ow], w_t, out=d)
            d = d.reshape(m, oh, ow, kh, kw, c_in)
            target = gx_pad[:m]
            target.fill(0)
            for i in range(kh):
                for j in range(kw):  # tap (i, j) of every window lands at x_pad[o*S + (i, j)]
                    target[:, i:i + (oh - 1) * sh + 1:sh, j:j + (ow - 1) * sw + 1:sw] += \
                        d[:, :, :, i, j]
            if bias is None:
                gx[start:start + m] = target[:, ph:ph + h, pw:pw + wd]
            else:
                xp.add(target[:, ph:ph + h, pw:pw + wd], bias, out=gx[start:start + m])

    parallel.chunks(n, part)
    return gx


def input_grad_phase(gy, w, stride, padding, in_size):
    """conv2d_input_grad by phase decomposition (same arguments and result).

    Write a padded-input row as i = q*S + r (0 <= r < S).  Output
    row oh touches it through tap kh = i - oh*S, so kh = r + t*S and oh = q - t: every
    row of phase r is a stride-1 correlation of gy with the flipped taps w[r::S].  So
    one gather of TH x TW windows of gy (TH = ceil(KH/S): the most taps a phase has)
    and one GEMM with all phases' sub-kernels side by side give, per block (q_h, q_w),
    the S*S pixels of x_pad it covers; they are then interleaved into gx with strided
    slice assignments.  No scatter-add (col2im) anywhere; every output pixel is written
    once.  Costs (TH*TW*S*S) / (KH*KW) times the minimal FLOPs (36/25 for 5x5, stride 2).
    """
    xp = backend.xp
    (sh, sw), (ph, pw), (h, wd) = as_pair(stride), as_pair(padding), in_size
    n, oh, ow, c_out = gy.shape
    kh, kw, c_in, _ = w.shape
    th, tw = -(-kh // sh), -(-kw // sw)
    # the blocks q that cover the un-padded rows [ph, ph + H) of x_pad
    q0h, q0w = ph // sh, pw // sw
    qh, qw = -(-(ph + h) // sh) - q0h, -(-(pw + wd) // sw) - q0w
    # block q needs gy rows q-TH+1 .. q: put gy at offset TH-1-q0 in a zero frame
    g = embed(gy, th - 1 - q0h, tw - 1 - q0w, qh + th - 1, qw + tw - 1)
    cols = im2col(g, th, tw, 1, 1, qh, qw)                              # (N*QH*QW, TH*TW*C_out)
    blocks = xp.matmul(cols, phase_kernels(w, sh, sw, th, tw))          # (N*QH*QW, SH*SW*C_in)
    blocks = blocks.reshape(n, qh, qw, sh, sw, c_in)

    # interleave: x row i_out (= i - ph) is phase (i_out + ph) % S of block (i_out + ph) // S
    gx = xp.empty((n, h, wd, c_in), dtype=gy.dtype)
    for rh in range(sh):
        i0 = (rh - ph) % sh                    # first x row of phase rh
        a0, m = (i0 + ph) // sh - q0h, len(range(i0, h, sh))
        for rw in range(sw):
            j0 = (rw - pw) % sw
            b0, mw = (j0 + pw) // sw - q0w, len(range(j0, wd, sw))
            gx[:, i0::sh, j0::sw] = blocks[:, a0:a0 + m, b0:b0 + mw, rh, rw]
    return gx


# ---------------------------------------------------------------------------- conv2d

def conv2d_forward(x, w, b, stride=1, padding=0, workspace=None):
    """y = conv2d(x, w) + b.

    x (N, H, W, C_in), w (KH, KW, C_in, C_out), b (C_out,) or None; stride and padding
    an int or an (h, w) pair  ->  y (N, OH, OW, C_out), OH = (H + 2*PH - KH) // SH + 1.
    Returns (y, cache); the cache holds the im2col matrix for the weight gradient.
    ``workspace``: a ``minigan.workspace.Workspace`` owned by the caller to build that
    matrix in (reused, so the cache is only valid until the next call with the same
    workspace -- a layer keeps one cache at a time anyway); None: a fresh array.
    """
    xp = backend.xp
    (sh, sw), (ph, pw) = as_pair(stride), as_pair(padding)
    n, h, wd, c_in = x.shape
    kh, kw, w_in, c_out = w.shape
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    if w_in != c_in or oh < 1 or ow < 1:
        raise ShapeError(f"conv2d: input {tuple(x.shape)} (N, H, W, C_in) does not fit weight "
                         f"{tuple(w.shape)} (KH, KW, C_in, C_out) with stride {(sh, sw)}, "
                         f"padding {(ph, pw)}")
    shape = (n * oh * ow, kh * kw * c_in)
    cols = xp.empty(shape, dtype=x.dtype) if workspace is None else workspace.empty(
        "cols", shape, x.dtype)                                        # (N*OH*OW, KH*KW*C_in)
    y = xp.empty((n, oh, ow, c_out), dtype=x.dtype)
    w2, y2 = w.reshape(kh * kw * c_in, c_out), y.reshape(n * oh * ow, c_out)

    def part(start, stop):  # speed: samples [start, stop) on one of minigan.parallel's threads
        rows = slice(start * oh * ow, stop * oh * ow)
        im2col(zero_pad(x[start:stop], ph, pw, "conv.padded"), kh, kw, sh, sw, oh, ow,
               out=cols[rows])
        xp.matmul(cols[rows], w2, out=y2[rows])
        if b is not None:
            y2[rows] += b

    parallel.chunks(n, part)
    return y, (cols, w, (h, wd), (sh, sw), (ph, pw), b is not None)


def conv2d_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients of conv2d from gy = dL/dy (N, OH, OW, C_out).

    Returns (gx (N, H, W, C_in), gw (KH, KW, C_in, C_out), gb (C_out,)), with None for
    what was not asked for (gb is also None without a bias).  gy is not modified.
    """
    # y = cols @ W + b  =>  dW = cols^T gy,  db = sum_rows gy,  dcols = gy W^T whose
    # windows summed back into place (col2im) are exactly the transposed conv of gy
    xp = backend.xp
    cols, w, in_size, stride, padding, has_bias = cache
    gx = gw = gb = None
    if need_input_grad:
        gx = conv2d_input_grad(gy, w, stride, padding, in_size)
    if need_param_grads:
        gw = weight_grad(cols, gy.reshape(-1, w.shape[3])).reshape(w.shape)
        if has_bias:
            gb = gy.sum(axis=(0, 1, 2))
    return gx, gw, gb
