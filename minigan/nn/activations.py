"""Activation layers: ReLU, LeakyReLU, Tanh, Sigmoid (any input shape, dtype kept)."""

from .. import functional as F
from ..validate import check_array, finite_number
from .module import Module


class _Activation(Module):
    _forward = None
    _backward = None

    def forward(self, x):
        check_array(self, x, None, "(any shape)")
        return self._remember(*type(self)._forward(x))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        return type(self)._backward(gy, cache) if need_input_grad else None


class ReLU(_Activation):
    """y = max(x, 0); gradient 0 at x = 0."""

    _forward = F.relu_forward
    _backward = F.relu_backward


class Tanh(_Activation):
    """y = tanh(x)."""

    _forward = F.tanh_forward
    _backward = F.tanh_backward


class Sigmoid(_Activation):
    """y = 1 / (1 + exp(-x)), computed stably for any finite x."""

    _forward = F.sigmoid_forward
    _backward = F.sigmoid_backward


class LeakyReLU(Module):
    """y = x for x > 0, negative_slope * x otherwise; the slope at exactly 0 is negative_slope."""

    def __init__(self, negative_slope=0.2):
        super().__init__()
        self.negative_slope = finite_number("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x):
        check_array(self, x, None, "(any shape)")
        return self._remember(*F.leaky_relu_forward(x, self.negative_slope))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        return F.leaky_relu_backward(gy, cache) if need_input_grad else None

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"
