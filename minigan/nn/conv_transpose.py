"""ConvTranspose2d: the adjoint of Conv2d (a.k.a. fractionally strided convolution), NHWC."""

from .. import functional as F
from .. import init
from ..errors import ConfigError, ShapeError
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


class ConvTranspose2d(Module):
    """The input-gradient of ``Conv2d(out_channels, in_channels, ...)`` with the same weight.

    x (N, H, W, C_in) -> y (N, OH, OW, C_out), OH = (H - 1) s - 2p + KH + output_padding
    (PyTorch's rule). weight (KH, KW, C_out, C_in): the layout of that Conv2d's
    weight. bias (C_out,) or None. ``output_padding`` (< stride) picks among the
    output sizes that a stride-s convolution maps to the same input size.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, bias=True, *, dtype=None, rng=None):
        super().__init__()
        self.in_channels = positive_int("ConvTranspose2d", "in_channels", in_channels)
        self.out_channels = positive_int("ConvTranspose2d", "out_channels", out_channels)
        dtype = float_dtype("ConvTranspose2d", dtype)
        self.kernel_size = pair("ConvTranspose2d", "kernel_size", kernel_size, 1)
        self.stride = pair("ConvTranspose2d", "stride", stride, 1)
        self.padding = pair("ConvTranspose2d", "padding", padding, 0)
        self.output_padding = pair("ConvTranspose2d", "output_padding", output_padding, 0)
        if any(op >= s for op, s in zip(self.output_padding, self.stride)):
            raise ConfigError(f"ConvTranspose2d: output_padding {self.output_padding} must be "
                              f"smaller than stride {self.stride}")
        kh, kw = self.kernel_size
        shape = (kh, kw, out_channels, in_channels)
        fan_in, fan_out = kh * kw * in_channels, kh * kw * out_channels
        self.weight = Parameter(init.glorot_uniform(shape, fan_in, fan_out, rng, dtype))
        self.bias = Parameter(init.zeros((out_channels,), dtype)) if bias else None

    def output_size(self, height, width):
        """(OH, OW) for an input of height x width."""
        return tuple(F.conv_transpose_output_size(size, k, s, p, op) for size, k, s, p, op in
                     zip((height, width), self.kernel_size, self.stride, self.padding,
                         self.output_padding))

    def forward(self, x):
        check_array(self, x, 4, LAYOUT)
        check_features(self, x, self.in_channels, LAYOUT)
        check_dtype_matches(self, x, self.weight.data)
        if min(self.output_size(x.shape[1], x.shape[2])) < 1:
            raise ShapeError(f"{self!r}: input shape {tuple(x.shape)} gives an empty output "
                             f"{self.output_size(x.shape[1], x.shape[2])}")
        bias = None if self.bias is None else self.bias.data
        return self._remember(*F.conv_transpose2d_forward(
            x, self.weight.data, bias, self.stride, self.padding, self.output_padding))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        gx, gw, gb = F.conv_transpose2d_backward(gy, cache, need_input_grad,
                                                 self._needs_param_grads())
        self._accumulate(weight=gw, bias=gb)
        return gx

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, "
                f"output_padding={self.output_padding}, bias={self.bias is not None}")
