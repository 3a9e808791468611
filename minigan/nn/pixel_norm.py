"""PixelNorm: every pixel's feature vector scaled to unit root mean square (Karras et al.
2018); the math is in minigan/functional/pixel_norm.py."""

from .. import functional as F
from ..errors import ShapeError
from ..validate import check_array, finite_number
from .module import Module

LAYOUT = "(N, H, W, C) NHWC or (N, F)"


class PixelNorm(Module):
    """y = x / sqrt(mean over the last axis of x^2 + eps), ProGAN's pixelwise feature
    normalisation.

    x (..., C) -> y of the same shape and dtype, at least 2-d: NHWC images (each pixel's C
    channels) or (N, F) vectors (each sample's F features). No parameters, no batch
    statistics (a sample's output depends on that sample only; training and eval are the
    same). ``eps`` is ProGAN's 1e-8.
    """

    def __init__(self, eps=1e-8):
        super().__init__()
        self.eps = finite_number("PixelNorm", "eps", eps, above=0)

    def forward(self, x):
        check_array(self, x, None, LAYOUT)
        if x.ndim < 2:
            raise ShapeError(f"{self!r}: expected at least 2 axes {LAYOUT}, got shape "
                             f"{tuple(x.shape)}")
        return self._remember(*F.pixel_norm_forward(x, self.eps))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        return F.pixel_norm_backward(gy, cache) if need_input_grad else None

    def extra_repr(self):
        return f"eps={self.eps}"
