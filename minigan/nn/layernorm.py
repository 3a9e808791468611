"""LayerNorm with PyTorch's semantics (Ba et al. 2016; see functional/layernorm.py)."""

from .. import functional as F
from .. import init
from ..errors import ConfigError, ShapeError
from ..validate import (
    check_array,
    check_dtype_matches,
    finite_number,
    float_dtype,
    is_int,
    true_or_false,
)
from .module import Module
from .parameter import Parameter


class LayerNorm(Module):
    """Normalise every sample over its trailing ``normalized_shape`` axes, then scale and shift.

    x (..., *normalized_shape) -> y of the same shape: each group of values that share the
    leading indices gets mean 0 and (biased) variance 1, then y = weight * xhat + bias with
    ``weight`` (starts at 1) and ``bias`` (starts at 0) of shape ``normalized_shape``
    (``elementwise_affine=False``: no parameters). ``normalized_shape`` is an int or a
    tuple: for NHWC images LayerNorm((H, W, C)) normalises each image over all its pixels
    and channels, as PyTorch's LayerNorm([C, H, W]) does in NCHW. No running statistics:
    training and eval are the same.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, *, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if is_int(normalized_shape) else normalized_shape
        if (not isinstance(shape, (tuple, list)) or not shape
                or not all(is_int(d) and d > 0 for d in shape)):
            raise ConfigError(f"LayerNorm: normalized_shape must be a positive int or a tuple "
                              f"of positive ints (the trailing axes), got {normalized_shape!r}")
        true_or_false("LayerNorm", "elementwise_affine", elementwise_affine)
        self.normalized_shape = tuple(int(d) for d in shape)
        self.eps = finite_number("LayerNorm", "eps", eps, above=0)
        dtype = float_dtype("LayerNorm", dtype)
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Parameter(init.ones(self.normalized_shape, dtype))
            self.bias = Parameter(init.zeros(self.normalized_shape, dtype))

    def forward(self, x):
        layout = f"(..., {', '.join(map(str, self.normalized_shape))})"
        check_array(self, x, None, layout)
        d = len(self.normalized_shape)
        if x.ndim < d + 1 or tuple(x.shape[-d:]) != self.normalized_shape:
            raise ShapeError(f"{self!r}: expected an input {layout} (the trailing axes "
                             f"normalized_shape after at least one batch axis), got shape "
                             f"{tuple(x.shape)}")
        if self.weight is not None:
            check_dtype_matches(self, x, self.weight.data)
        gamma = None if self.weight is None else self.weight.data
        beta = None if self.bias is None else self.bias.data
        return self._remember(*F.layer_norm_forward(x, gamma, beta, self.normalized_shape,
                                                    self.eps))

    def backward(self, gy, need_input_grad=True):
        cache = self._take_cache(gy)
        gx, ggamma, gbeta = F.layer_norm_backward(gy, cache, need_input_grad,
                                                  self._needs_param_grads())
        self._accumulate(weight=ggamma, bias=gbeta)
        return gx

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.weight is not None}")
