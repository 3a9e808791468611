"""Maxout: a Dense layer with K pieces per unit, of which each unit keeps the largest
(Goodfellow et al. 2013); see minigan/functional/maxout.py for the math."""

from .. import functional as F
from .. import init
from ..validate import check_array, check_dtype_matches, check_features, float_dtype, positive_int
from .module import Module
from .parameter import Parameter

LAYOUT = "(N, in_features)"


class Maxout(Module):
    """y_nj = max_k (x @ weight + bias)_n,(j*pieces + k).

    x (N, in_features) -> y (N, out_features); weight (in_features, out_features * pieces),
    bias (out_features * pieces,): the columns j*pieces .. j*pieces + pieces - 1 are the
    pieces of unit j (PyTorch: ``linear(x).view(N, out_features, pieces).max(-1).values``).
    On a tie the first largest piece takes the gradient, as ``torch.max`` does. Weights
    start Glorot-uniform, the bias at 0. ``dtype`` defaults to float32; ``rng`` to the
    global generator.
    """

    def __init__(self, in_features, out_features, pieces, bias=True, *, dtype=None, rng=None):
        super().__init__()
        self.in_features = positive_int("Maxout", "in_features", in_features)
        self.out_features = positive_int("Maxout", "out_features", out_features)
        self.pieces = positive_int("Maxout", "pieces", pieces)
        dtype = float_dtype("Maxout", dtype)
        columns = self.out_features * self.pieces
        self.weight = Parameter(init.glorot_uniform((self.in_features, columns),
                                                    self.in_features, columns, rng, dtype))
        self.bias = Parameter(init.zeros((columns,), dtype)) if bias else None

    def forward(self, x):
        check_array(self, x, 2, LAYOUT)
        check_features(self, x, self.in_features, LAYOUT)
        check_dtype_matches(self, x, self.weight.data)
        bias = None if self.bias is None else self.bias.data
        return self._remember(*F.maxout_forward(x, self.weight.data, bias, self.pieces))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        gx, gw, gb = F.maxout_backward(gy, cache, need_input_grad, self._needs_param_grads())
        self._accumulate(weight=gw, bias=gb)
        return gx

    def extra_repr(self):
        return (f"{self.in_features}, {self.out_features}, pieces={self.pieces}, "
                f"bias={self.bias is not None}")
