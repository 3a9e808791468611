"""Dense: a fully connected layer, y = x @ W + b, with W stored (in, out)."""

from .. import functional as F
from .. import init
from ..validate import check_array, check_dtype_matches, check_features, float_dtype, positive_int
from .module import Module
from .parameter import Parameter

LAYOUT = "(N, in_features)"


class Dense(Module):
    """y = x @ weight + bias.

    x (N, in_features) -> y (N, out_features); weight (in_features, out_features),
    bias (out_features,) or None with ``bias=False``. Weights start Glorot-uniform,
    the bias at 0. ``dtype`` defaults to float32; ``rng`` to the global generator.
    """

    def __init__(self, in_features, out_features, bias=True, *, dtype=None, rng=None):
        super().__init__()
        self.in_features = positive_int("Dense", "in_features", in_features)
        self.out_features = positive_int("Dense", "out_features", out_features)
        dtype = float_dtype("Dense", dtype)
        shape = (in_features, out_features)
        self.weight = Parameter(init.glorot_uniform(shape, in_features, out_features, rng, dtype))
        self.bias = Parameter(init.zeros((out_features,), dtype)) if bias else None

    def forward(self, x):
        check_array(self, x, 2, LAYOUT)
        check_features(self, x, self.in_features, LAYOUT)
        check_dtype_matches(self, x, self.weight.data)
        bias = None if self.bias is None else self.bias.data
        return self._remember(*F.dense_forward(x, self.weight.data, bias))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        gx, gw, gb = F.dense_backward(gy, cache, need_input_grad, self._needs_param_grads())
        self._accumulate(weight=gw, bias=gb)
        return gx

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"

