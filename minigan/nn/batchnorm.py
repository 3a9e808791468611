"""BatchNorm1d and BatchNorm2d with PyTorch's semantics (see functional/batchnorm.py).

Training: normalise with the batch mean and biased variance over every axis but
the channel axis (N for 1d; N, H, W for NHWC 2d), then update
``running = (1 - momentum) * running + momentum * batch_stat`` with the unbiased
batch variance in ``running_var``. Eval: normalise with the running statistics.
``weight`` is gamma (starts at 1), ``bias`` is beta (starts at 0).
"""

from .. import functional as F
from .. import init
from ..errors import ConfigError, ShapeError
from ..validate import (
    check_array,
    check_dtype_matches,
    check_features,
    finite_number,
    float_dtype,
    positive_int,
)
from .module import Module
from .parameter import Parameter


class BatchNormBase(Module):
    """What BatchNorm1d and BatchNorm2d share (they differ in the input's layout only);
    ``isinstance(m, BatchNormBase)`` asks whether a module is a batch norm."""

    _buffer_names = ("running_mean", "running_var")
    _nonnegative_buffers = ("running_var",)
    _ndim = None
    _layout = None

    def __init__(self, num_features, eps=1e-5, momentum=0.1, *, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(name, "num_features", num_features)
        self.eps = finite_number(name, "eps", eps, above=0)
        self.momentum = finite_number(name, "momentum", momentum)
        if not 0 <= momentum <= 1:
            raise ConfigError(f"{name}: momentum must be in [0, 1], got {momentum!r}")
        dtype = float_dtype(name, dtype)
        self.weight = Parameter(init.ones((num_features,), dtype))
        self.bias = Parameter(init.zeros((num_features,), dtype))
        self.running_mean = init.zeros((num_features,), dtype)
        self.running_var = init.ones((num_features,), dtype)

    def forward(self, x):
        check_array(self, x, self._ndim, self._layout)
        check_features(self, x, self.num_features, self._layout)
        check_dtype_matches(self, x, self.weight.data)
        if not self.training:
            return self._remember(*F.batch_norm_eval_forward(
                x, self.weight.data, self.bias.data, self.running_mean, self.running_var,
                self.eps))
        count = x.size // x.shape[-1]
        if count < 2:
            raise ShapeError(f"{self!r}: training mode needs more than one value per channel "
                             f"to estimate a variance, got input shape {tuple(x.shape)}")
        y, cache = F.batch_norm_forward(x, self.weight.data, self.bias.data, self.eps)
        F.update_running_stats(self.running_mean, self.running_var, cache, count,
                               self.momentum)
        return self._remember(y, cache)

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        gx, ggamma, gbeta = F.batch_norm_backward(gy, cache, need_input_grad,
                                                  self._needs_param_grads())
        self._accumulate(weight=ggamma, bias=gbeta)
        return gx

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(BatchNormBase):
    """Batch norm over (N, C) inputs: statistics per feature over the batch."""

    _ndim = 2
    _layout = "(N, C)"


class BatchNorm2d(BatchNormBase):
    """Batch norm over NHWC inputs (N, H, W, C): statistics per channel over N, H, W."""

    _ndim = 4
    _layout = "(N, H, W, C) NHWC"
