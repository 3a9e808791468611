"""Average pooling over non-overlapping KH x KW windows, NHWC: PyTorch's
``F.avg_pool2d(x, kernel_size)`` (stride = kernel, no padding).

    y[n, i, j, c] = mean over a < KH, b < KW of x[n, i*KH + a, j*KW + b, c]
    x (N, H, W, C) -> y (N, H // KH, W // KW, C)

A last row or column that does not fill a window is dropped (PyTorch's floor rule). Take
one offset (a, b) inside the windows: the pixels ``x[:, a::KH, b::KW]`` (cut to the
OH x OW windows) form a strided view with y's shape, one pixel per window. So the mean
over a window is the mean of KH*KW such views:

    forward:   y  = (1 / (KH*KW)) * sum over the offsets of x[:, a::KH, b::KW]
    backward:  gx[:, a::KH, b::KW] = gy / (KH*KW)          for every offset (a, b)
               (0 in a dropped last row or column)

This is nearest upsampling (``upsample.py``) the other way round: pooling's backward is
upsampling's forward of gy / (KH*KW), and pooling's forward is upsampling's backward
divided by KH*KW.

The loop runs over the KH*KW offsets (4 for 2x2 windows), never over samples or pixels.
"""

from .. import backend, engine
from ..engine.unfold import as_pair
from .upsample import offsets


def _mean(*taps):
    total = taps[0].copy()
    for tap in taps[1:]:
        total += tap
    return total / len(taps)


def _divide(g, count):
    return g / count


def pooled_size(size, kernel):
    """Windows along one axis: size // kernel (a partial last window is dropped)."""
    return size // kernel


def avg_pool2d_forward(x, kernel_size=2):
    """x (N, H, W, C), kernel_size an int or a (KH, KW) pair -> y (N, H // KH, W // KW, C).

    Returns (y, cache); the cache is x's shape and the kernel."""
    kh, kw = as_pair(kernel_size)
    n, h, w, c = x.shape
    oh, ow = pooled_size(h, kh), pooled_size(w, kw)
    taps = [x[:, a:oh * kh:kh, b:ow * kw:kw] for a, b in offsets((kh, kw))]   # each (N, OH, OW, C)
    return engine.elementwise(_mean, *taps), (tuple(x.shape), (kh, kw))


def avg_pool2d_backward(gy, cache):
    """gx (N, H, W, C) from gy = dL/dy (N, OH, OW, C); gy is not modified."""
    # y = mean of the KH*KW views x[:, a::KH, b::KW]  =>  each view's gradient is
    # gy / (KH*KW), written back where the view came from; pixels of a dropped last row
    # or column reach no window: their gradient is 0
    x_shape, (kh, kw) = cache
    _, oh, ow, _ = gy.shape
    share = engine.elementwise(_divide, gy, kh * kw)
    covered = x_shape[1] == oh * kh and x_shape[2] == ow * kw
    gx = (backend.xp.empty if covered else backend.xp.zeros)(x_shape, dtype=gy.dtype)
    for a, b in offsets((kh, kw)):      # KH*KW copies of the whole batch
        gx[:, a:oh * kh:kh, b:ow * kw:kw] = share
    return gx
