"""Conv2d: a 2-D convolution (cross-correlation, as in every DL framework) on NHWC images."""

from .. import functional as F
from .. import init
from ..errors import ShapeError
from ..validate import (
    check_array,
    check_dtype_matches,
    check_features,
    float_dtype,
    pair,
    positive_int,
)
from .module import Module
from .parameter import Parameter

LAYOUT = "(N, H, W, C) NHWC"


def resolve_same_padding(layer_name, kernel_size, stride):
    """padding="same" for stride 1 and odd kernels: (k - 1) // 2 on each side."""
    if stride != (1, 1) or kernel_size[0] % 2 == 0 or kernel_size[1] % 2 == 0:
        raise ShapeError(f"{layer_name}: padding='same' needs stride 1 and an odd kernel, "
                         f"got kernel_size={kernel_size}, stride={stride}")
    return ((kernel_size[0] - 1) // 2, (kernel_size[1] - 1) // 2)


class Conv2d(Module):
    """y[n, oh, ow, co] = b[co]
                        + sum_{kh, kw, ci} x_pad[n, oh*s + kh, ow*s + kw, ci] w[kh, kw, ci, co].

    x (N, H, W, C_in) -> y (N, OH, OW, C_out), OH = (H + 2p - KH) // s + 1.
    weight (KH, KW, C_in, C_out); bias (C_out,) or None. ``kernel_size``, ``stride``
    and ``padding`` take an int or an (h, w) pair; ``padding="same"`` is offered for
    stride 1 and odd kernels. Weights start Glorot-uniform, the bias at 0.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 *, dtype=None, rng=None):
        super().__init__()
        self.in_channels = positive_int("Conv2d", "in_channels", in_channels)
        self.out_channels = positive_int("Conv2d", "out_channels", out_channels)
        dtype = float_dtype("Conv2d", dtype)
        self.kernel_size = pair("Conv2d", "kernel_size", kernel_size, 1)
        self.stride = pair("Conv2d", "stride", stride, 1)
        if padding == "same":
            padding = resolve_same_padding("Conv2d", self.kernel_size, self.stride)
        self.padding = pair("Conv2d", "padding", padding, 0)
        kh, kw = self.kernel_size
        shape = (kh, kw, in_channels, out_channels)
        fan_in, fan_out = kh * kw * in_channels, kh * kw * out_channels
        self.weight = Parameter(init.glorot_uniform(shape, fan_in, fan_out, rng, dtype))
        self.bias = Parameter(init.zeros((out_channels,), dtype)) if bias else None

    def forward(self, x):
        check_array(self, x, 4, LAYOUT)
        check_features(self, x, self.in_channels, LAYOUT)
        check_dtype_matches(self, x, self.weight.data)
        for axis, size in ((0, x.shape[1]), (1, x.shape[2])):
            padded = size + 2 * self.padding[axis]
            if padded < self.kernel_size[axis]:
                raise ShapeError(f"{self!r}: input {'height' if axis == 0 else 'width'} {size} "
                                 f"padded by {self.padding[axis]} on each side is {padded}, "
                                 f"smaller than the kernel ({self.kernel_size[axis]}); "
                                 f"input shape {tuple(x.shape)}")
        bias = None if self.bias is None else self.bias.data
        return self._remember(*F.conv2d_forward(x, self.weight.data, bias,
                                                self.stride, self.padding))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        gx, gw, gb = F.conv2d_backward(gy, cache, need_input_grad, self._needs_param_grads())
        self._accumulate(weight=gw, bias=gb)
        return gx

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")
