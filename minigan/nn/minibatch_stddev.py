"""MinibatchStdDev: append the batch's mean standard deviation as one more feature
(Karras et al. 2018); see minigan/functional/minibatch_stddev.py for the math."""

from .. import functional as F
from ..errors import ShapeError
from ..validate import check_array, finite_number, positive_int
from .module import Module

LAYOUT = "(N, F) or (N, H, W, C) NHWC"


class MinibatchStdDev(Module):
    """y = concat(x, s) along the last axis; s = mean over features of the per-feature
    std over each group of ``group_size`` consecutive samples (None: the whole batch).

    x (N, F) -> y (N, F + 1); x (N, H, W, C) -> y (N, H, W, C + 1). No parameters.
    N must be a multiple of ``group_size``. With one sample per group the variance is
    0 and s = sqrt(eps) (its gradient is 0). Typical use, near the end of a
    discriminator: ``Sequential(Dense(1, 32), LeakyReLU(0.2), MinibatchStdDev(), Dense(33, 1))``.
    """

    def __init__(self, eps=1e-8, group_size=None):
        super().__init__()
        self.eps = finite_number("MinibatchStdDev", "eps", eps, above=0)
        self.group_size = (None if group_size is None
                           else positive_int("MinibatchStdDev", "group_size", group_size))

    def forward(self, x):
        check_array(self, x, None, LAYOUT)
        if x.ndim not in (2, 4):
            raise ShapeError(f"{self!r}: expected a 2-d (N, F) or 4-d (N, H, W, C) input, "
                             f"got shape {tuple(x.shape)}")
        if self.group_size is not None and x.shape[0] % self.group_size:
            raise ShapeError(f"{self!r}: expected a batch size that is a multiple of "
                             f"group_size={self.group_size}, got shape {tuple(x.shape)}")
        return self._remember(*F.minibatch_stddev_forward(x, self.eps, self.group_size))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        return F.minibatch_stddev_backward(gy, cache) if need_input_grad else None

    def extra_repr(self):
        return f"eps={self.eps}, group_size={self.group_size}"
