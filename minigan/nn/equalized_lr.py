"""EqualizedLR: a Dense or Conv2d layer that computes with its weight times He's constant
(Karras et al. 2018, §4.1); the math is in minigan/functional/equalized_lr.py."""

import math

from .. import backend
from .. import functional as F
from ..errors import ConfigError, MiniganError
from ..validate import finite_number
from .conv import Conv2d
from .dense import Dense
from .module import Module
from .weight_grad import backward_catching_weight_grad


def fan_in(layer):
    """The inputs one output of a Dense or Conv2d sums over: in_features, or KH*KW*C_in."""
    return math.prod(layer.weight.shape[:-1])


class EqualizedLR(Module):
    """y = layer(x) computed with the weight c * W, c = gain / sqrt(fan_in).

    x and y as for the wrapped layer. ``layer`` is a Dense or a Conv2d; its weight W is
    re-drawn from N(0, 1) (``rng``, default the global generator) and its bias set to 0, so
    c * W starts with He's scale (variance gain^2 / fan_in). The layer keeps W as its
    parameter: keys "layer.weight", "layer.bias". Use gain sqrt(2) before a (leaky) ReLU,
    1 for a layer whose output is an image or a score (as Karras et al. do).

    Backward: the layer adds dL/dW_used into a fresh gradient array, and W's own gradient
    receives c times it (W_used = c W).
    """

    def __init__(self, layer, gain=math.sqrt(2), *, rng=None):
        super().__init__()
        if not isinstance(layer, (Dense, Conv2d)):
            raise ConfigError(f"EqualizedLR: expected a Dense or Conv2d layer to wrap, got "
                              f"{type(layer).__name__}")
        self.gain = finite_number("EqualizedLR", "gain", gain, above=0)
        self.scale = self.gain / math.sqrt(fan_in(layer))
        self.layer = layer
        weight = layer.weight.data
        rng = backend.global_rng() if rng is None else rng
        backend.xp.copyto(weight, rng.standard_normal(weight.shape, dtype=weight.dtype))
        if layer.bias is not None:
            layer.bias.data.fill(0)

    def forward(self, x):
        weight = self.layer.weight
        raw = weight.data
        weight.data, _ = F.equalized_weight_forward(raw, self.scale)  # the layer runs with c W
        try:
            y = self.layer.run_forward(x)
        except MiniganError as error:
            raise type(error)(f"EqualizedLR: {error}") from None
        finally:
            weight.data = raw                                          # ... and keeps W
        self._cache = True
        return y

    def backward(self, gy, need_input_grad=True):
        """dL/dx; adds c * dL/dW_used into layer.weight.grad, dL/db into layer.bias.grad."""
        if self._cache is None:
            self._take_cache(gy)                                       # the StateError
        self._cache = None
        weight = self.layer.weight
        if not weight.requires_grad:                                   # frozen: no dL/dW
            return self.layer.run_backward(gy, need_input_grad)
        gx, g_used = backward_catching_weight_grad(self.layer, gy, need_input_grad)
        weight.grad += F.equalized_weight_backward(g_used, self.scale)
        return gx

    def extra_repr(self):
        return f"{self.layer!r}, gain={self.gain:.4g}"
