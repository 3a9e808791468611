"""SpectralNorm: a Dense, Maxout or Conv2d layer whose weight is used as W / sigma(W)
(Miyato et al. 2018); see minigan/functional/spectral_norm.py for the math."""

from .. import backend
from .. import functional as F
from ..errors import ConfigError, MiniganError
from ..functional.spectral_norm import as_matrix, from_matrix, normalize
from ..validate import finite_number, is_int
from .conv import Conv2d
from .dense import Dense
from .maxout import Maxout
from .module import Module
from .weight_grad import backward_catching_weight_grad


class SpectralNorm(Module):
    """y = layer(x) computed with weight W_sn = W / sigma(W) instead of W.

    x and y as for the wrapped layer: (N, IN) -> (N, OUT), or NHWC (N, H, W, C_in) ->
    (N, OH, OW, C_out). sigma is the top singular value of the matrix view
    W (C_out, R) = weight.reshape(R, C_out).T (PyTorch's (out, in*kh*kw) shape).

    ``layer`` is a Dense, a Maxout (W is its (IN, OUT*K) weight: the map x -> z to all
    pieces) or a Conv2d; it keeps the raw weight W and the bias, so the
    parameters are "layer.weight" and "layer.bias", and the buffer "u" (C_out,) holds
    the power-iteration vector (PyTorch's ``weight_u``): state_dict keys are
    "u", "layer.weight", "layer.bias". In training mode each forward first runs
    ``n_power_iterations`` steps and stores the new u; in eval mode u is used as
    stored. u starts as a normalised N(0, 1) draw from ``rng`` (default: the global
    generator, see ``minigan.backend.seed``).
    """

    _buffer_names = ("u",)

    def __init__(self, layer, n_power_iterations=1, eps=1e-12, *, rng=None):
        super().__init__()
        if not isinstance(layer, (Dense, Conv2d, Maxout)):
            raise ConfigError(f"SpectralNorm: expected a Dense, Maxout or Conv2d layer to wrap, "
                              f"got {type(layer).__name__}")
        if not is_int(n_power_iterations) or n_power_iterations < 1:
            raise ConfigError(f"SpectralNorm: n_power_iterations must be an int >= 1, "
                              f"got {n_power_iterations!r}")
        self.n_power_iterations = int(n_power_iterations)
        self.eps = finite_number("SpectralNorm", "eps", eps, above=0)
        self.layer = layer
        weight = layer.weight.data
        rng = backend.global_rng() if rng is None else rng
        u = backend.to_device(rng.standard_normal(weight.shape[-1])).astype(weight.dtype)
        self.u = normalize(u, self.eps)             # (C_out,)

    def forward(self, x):
        weight = self.layer.weight
        steps = self.n_power_iterations if self.training else 0
        w_sn, u, cache = F.spectral_normalize(as_matrix(weight.data), self.u, steps, self.eps)
        raw = weight.data
        weight.data = from_matrix(w_sn, raw.shape)     # the layer runs with W_sn ...
        try:
            y = self.layer.run_forward(x)
        except MiniganError as error:
            raise type(error)(f"SpectralNorm: {error}") from None
        finally:
            weight.data = raw                          # ... and keeps W as its parameter
        if self.training:
            backend.xp.copyto(self.u, u)
        return self._remember(y, cache)

    def backward(self, gy, need_input_grad=True):
        """dL/dx; adds dL/dW (through W_sn) into layer.weight.grad, dL/db into layer.bias.grad."""
        cache = self._take_cache(gy)
        weight = self.layer.weight
        if not weight.requires_grad:                   # frozen: input (and bias) grads only
            return self.layer.run_backward(gy, need_input_grad)
        # the layer's own backward gives G = dL/dW_sn; dL/dW goes into the accumulator
        gx, g_wsn = backward_catching_weight_grad(self.layer, gy, need_input_grad)
        weight.grad += from_matrix(F.spectral_normalize_backward(as_matrix(g_wsn), cache),
                                   weight.grad.shape)
        return gx

    def normalized_weight(self):
        """W_sn (the weight's shape) for the stored u, without updating it (for inspection)."""
        weight = self.layer.weight.data
        w_sn, _, _ = F.spectral_normalize(as_matrix(weight), self.u, 0, self.eps)
        return from_matrix(w_sn, weight.shape)

    def sigma(self):
        """The estimate sigma = ||W^T u|| for the stored u: a 0-d device array."""
        _, _, (_, _, _, sigma) = F.spectral_normalize(as_matrix(self.layer.weight.data),
                                                     self.u, 0, self.eps)
        return sigma

    def extra_repr(self):
        return f"{self.layer!r}, n_power_iterations={self.n_power_iterations}, eps={self.eps}"


def spectral_norm(layer, n_power_iterations=1, eps=1e-12, *, rng=None):
    """``SpectralNorm(layer, ...)``: the layer with a spectrally normalised weight."""
    return SpectralNorm(layer, n_power_iterations, eps, rng=rng)
