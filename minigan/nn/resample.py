"""Upsample2d and AvgPool2d: change an image's resolution by integer factors (NHWC, dtype
kept, no parameters); the math, and why each is the other's adjoint up to a constant, is
in minigan/functional/upsample.py and pooling.py."""

from .. import functional as F
from ..errors import ShapeError
from ..validate import check_array, pair
from .module import Module

LAYOUT = "(N, H, W, C) NHWC"


class Upsample2d(Module):
    """Nearest-neighbour upsampling, as ``F.interpolate(x, scale_factor=scale, mode="nearest")``.

    x (N, H, W, C) -> y (N, H*SH, W*SW, C): every pixel becomes an SH x SW block of
    copies. ``scale`` is an int or an (SH, SW) pair of positive ints. The progressive
    generator uses ``Upsample2d(2)`` before each new block and on its old path to the
    image while a block fades in.
    """

    def __init__(self, scale=2):
        super().__init__()
        self.scale = pair("Upsample2d", "scale", scale, 1)

    def forward(self, x):
        check_array(self, x, 4, LAYOUT)
        return self._remember(*F.upsample_nearest_forward(x, self.scale))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        return F.upsample_nearest_backward(gy, cache) if need_input_grad else None

    def extra_repr(self):
        return f"scale={self.scale}"


class AvgPool2d(Module):
    """Average pooling over non-overlapping windows, as ``F.avg_pool2d(x, kernel_size)``.

    x (N, H, W, C) -> y (N, H // KH, W // KW, C): the mean of each KH x KW window (stride
    = kernel, no padding; a partial last row or column is dropped, PyTorch's rule).
    ``kernel_size`` is an int or a (KH, KW) pair of positive ints. The progressive
    discriminator halves the resolution with ``AvgPool2d(2)`` after each block.
    """

    def __init__(self, kernel_size=2):
        super().__init__()
        self.kernel_size = pair("AvgPool2d", "kernel_size", kernel_size, 1)

    def forward(self, x):
        check_array(self, x, 4, LAYOUT)
        kh, kw = self.kernel_size
        if x.shape[1] < kh or x.shape[2] < kw:
            raise ShapeError(f"{self!r}: expected an image at least as large as the window "
                             f"{self.kernel_size} {LAYOUT}, got shape {tuple(x.shape)}")
        return self._remember(*F.avg_pool2d_forward(x, self.kernel_size))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        return F.avg_pool2d_backward(gy, cache) if need_input_grad else None

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}"
