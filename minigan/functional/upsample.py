"""Nearest-neighbour upsampling by integer factors, NHWC: PyTorch's
``F.interpolate(x, scale_factor=s, mode="nearest")`` (for an integer factor).

    y[n, i, j, c] = x[n, i // SH, j // SW, c]        x (N, H, W, C) -> y (N, H*SH, W*SW, C)

Every input pixel becomes an SH x SW block of copies. Take one offset (a, b) inside the
blocks: the output pixels ``y[:, a::SH, b::SW]`` -- one per block -- form a strided view
of y with exactly x's shape, and every one of them is x. So, offset by offset:

    forward:   y[:, a::SH, b::SW] = x                       for the SH*SW offsets (a, b)
    backward:  gx = sum over the offsets of gy[:, a::SH, b::SW]

The backward is the adjoint of the copy: an input pixel fed SH*SW output pixels, so its
gradient is the sum of theirs (a "sum pooling" of gy). Average pooling (``pooling.py``)
is the same pair the other way round: its forward is this backward divided by SH*SW,
its backward this forward divided by SH*SW.

The loop runs over the SH*SW offsets (4 for a factor of 2), never over samples or pixels:
each pass moves a whole batch.
"""

from .. import backend, engine
from ..engine.unfold import as_pair


def _sum(*taps):
    total = taps[0].copy()
    for tap in taps[1:]:
        total += tap
    return total


def offsets(factor):
    """The (a, b) positions inside an SH x SW block, row by row."""
    fh, fw = factor
    return [(a, b) for a in range(fh) for b in range(fw)]


def upsample_nearest_forward(x, scale=2):
    """x (N, H, W, C), scale an int or an (SH, SW) pair -> y (N, H*SH, W*SW, C), dtype kept.

    Returns (y, cache); the cache is the scale (the backward needs nothing else)."""
    sh, sw = as_pair(scale)
    n, h, w, c = x.shape
    y = backend.xp.empty((n, h * sh, w * sw, c), dtype=x.dtype)
    for a, b in offsets((sh, sw)):      # SH*SW copies of the whole batch
        y[:, a::sh, b::sw] = x
    return y, (sh, sw)


def upsample_nearest_backward(gy, cache):
    """gx (N, H, W, C) from gy = dL/dy (N, H*SH, W*SW, C); gy is not modified."""
    # y[:, a::SH, b::SW] = x for every offset  =>  dL/dx = sum over the offsets of those
    # strided views of gy (each input pixel was copied to SH*SW places)
    sh, sw = cache
    return engine.elementwise(_sum, *[gy[:, a::sh, b::sw] for a, b in offsets((sh, sw))])
