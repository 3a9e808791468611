"""Exercise: the backward pass of batch normalisation in training mode.

Task
    Complete ``batch_norm_backward``. In training, per channel c (the last axis) and
    over its M values (M = N for (N, C) inputs, N*H*W for NHWC images):
        mu = mean(x),  var = mean((x - mu)^2),  xhat = (x - mu) / sqrt(var + eps),
        y = gamma * xhat + beta.
    Return (gx, ggamma, gbeta) from gy = dL/dy. mu and var depend on x: they are
    part of the gradient.

Shapes
    x, y, gy, gx: (N, C) or (N, H, W, C); gamma, beta, ggamma, gbeta: (C,)

The cache is what ``minigan.functional.batch_norm_forward(x, gamma, beta, eps)``
returns, a dict:
    cache["xhat"]     the normalised input, x's shape
    cache["inv_std"]  1 / sqrt(var + eps), (C,)
    cache["gamma"]    gamma, (C,)
    cache["mean"], cache["var"]   the batch statistics, (C,)
    cache["training"] True

Return None in place of what was not asked for. Do not change gy or the cache, and keep
the dtype of the inputs.

Hint
    docs/layers/batchnorm.md: the gradient has three terms (the direct one, the mean's
    and the variance's); with sums over the M values per channel it fits on one line.

Check it:  minigan exercises check DIR batch_norm_backward
"""

import numpy as np  # noqa: F401


def batch_norm_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    xhat, inv_std, gamma = cache["xhat"], cache["inv_std"], cache["gamma"]  # noqa: F841
    # TODO: compute gx, ggamma and gbeta
    raise NotImplementedError("batch_norm_backward: your code goes here")
