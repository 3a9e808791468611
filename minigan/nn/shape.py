"""Flatten and Reshape: change the view of each sample, keep the batch axis."""

import math

from ..errors import ConfigError, ShapeError
from ..validate import check_array, is_int
from .module import Module


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...), in C order (NHWC: channels vary fastest)."""

    def forward(self, x):
        check_array(self, x, None, "(N, ...)")
        return self._remember(x.reshape(x.shape[0], -1), tuple(x.shape))

    def backward(self, gy, need_input_grad=True):
        input_shape = self._take_cache(gy)
        return gy.reshape(input_shape) if need_input_grad else None


class Reshape(Module):
    """(N, ...) -> (N, *shape); ``shape`` excludes the batch axis, e.g. Reshape(7, 7, 128)."""

    def __init__(self, *shape):
        super().__init__()
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if not shape or not all(is_int(d) and d > 0 for d in shape):
            raise ConfigError(f"Reshape: shape must be positive ints (batch axis excluded), "
                              f"got {shape!r}")
        self.shape = tuple(int(d) for d in shape)

    def forward(self, x):
        check_array(self, x, None, "(N, ...)")
        per_sample = math.prod(x.shape[1:])
        if per_sample != math.prod(self.shape):
            raise ShapeError(f"{self!r}: each sample has {per_sample} values (input shape "
                             f"{tuple(x.shape)}) but the target shape {self.shape} needs "
                             f"{math.prod(self.shape)}")
        return self._remember(x.reshape((x.shape[0],) + self.shape), tuple(x.shape))

    def backward(self, gy, need_input_grad=True):
        input_shape = self._take_cache(gy)
        return gy.reshape(input_shape) if need_input_grad else None

    def extra_repr(self):
        return ", ".join(str(d) for d in self.shape)
