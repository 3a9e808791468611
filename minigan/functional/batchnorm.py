"""Batch normalisation over the channel axis (the last axis), PyTorch's semantics.

Works for (N, C) inputs (BatchNorm1d) and NHWC (N, H, W, C) inputs (BatchNorm2d):
statistics are taken over every axis but the last, M = N (or N*H*W) values per
channel.

Training:  mu = mean(x),  var = mean((x - mu)^2)  (biased),
           xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta.
Eval:      the same with the running statistics in place of mu and var.
Running statistics are updated by the caller (the module) from the batch
statistics this forward returns: see ``update_running_stats``.

The per-channel sums are ``engine.channel_sums`` / ``engine.channel_dots``, the
elementwise maps small rules applied by ``engine.elementwise``.
"""

from .. import backend, engine


def _values_per_channel(x):
    return x.size // x.shape[-1]


def _subtract(x, mean):
    return x - mean


def _scale(x, factor):
    return x * factor


def _affine(x, scale, shift):
    return x * scale + shift


def _normalize(x, mean, inv_std):
    return (x - mean) * inv_std


def standardize(x, eps):
    """Each channel (last axis) of x (..., C) brought to mean 0 and variance 1 over its M
    values: returns (xhat, 1/std, mean, biased var), the last three (C,)."""
    m = _values_per_channel(x)
    mean = engine.channel_sums(x) / m
    centered = engine.elementwise(_subtract, x, mean)
    var = engine.channel_dots(centered, centered) / m
    inv_std = 1 / backend.xp.sqrt(var + eps)
    xhat = engine.elementwise(_scale, centered, inv_std)
    return xhat, inv_std, mean, var


def batch_norm_forward(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm with batch statistics.

    x (..., C), gamma (C,), beta (C,) -> y (..., C); cache holds xhat, 1/std,
    gamma and the batch mean and biased variance (cache["mean"], cache["var"]).
    """
    xhat, inv_std, mean, var = standardize(x, eps)
    y = engine.elementwise(_affine, xhat, gamma, beta)
    cache = {"xhat": xhat, "inv_std": inv_std, "gamma": gamma, "mean": mean, "var": var,
             "training": True}
    return y, cache


def batch_norm_eval_forward(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Eval-mode batch norm: an affine map with the running statistics. Shapes as above."""
    # y = gamma * (x - mean) * inv_std + beta is one affine map per channel,
    # y = x * scale + shift. xhat is only needed for dL/dgamma: backward recomputes it
    # from x when it is asked for.
    inv_std = 1 / backend.xp.sqrt(running_var + eps)
    scale = gamma * inv_std
    shift = beta - running_mean * scale
    y = engine.elementwise(_affine, x, scale, shift)
    cache = {"x": x, "mean": running_mean.copy(), "inv_std": inv_std, "gamma": gamma,
             "training": False}
    return y, cache


def _input_grad(gy, xhat, scale, mean_gy, mean_gy_xhat):
    return scale * (gy - mean_gy - xhat * mean_gy_xhat)


def batch_norm_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients (gx (..., C), ggamma (C,), gbeta (C,)) from gy = dL/dy (..., C).

    None for what was not asked for.
    """
    inv_std, gamma = cache["inv_std"], cache["gamma"]
    training = cache["training"]
    if training or need_param_grads:
        # eval mode keeps x, not xhat (see batch_norm_eval_forward)
        xhat = (cache["xhat"] if training else
                engine.elementwise(_normalize, cache["x"], cache["mean"], inv_std))
        # y = gamma * xhat + beta  =>  dL/dbeta = sum gy,  dL/dgamma = sum gy * xhat
        gbeta = engine.channel_sums(gy)
        ggamma = engine.channel_dots(gy, xhat)
    gx = None
    if need_input_grad:
        if training:
            # mu and var depend on x: with M values per channel,
            # dL/dx = gamma * inv_std * (gy - mean(gy) - xhat * mean(gy * xhat))
            m = _values_per_channel(gy)
            gx = engine.elementwise(_input_grad, gy, xhat, gamma * inv_std, gbeta / m, ggamma / m)
        else:
            # eval: y is affine in x  =>  dL/dx = gy * gamma * inv_std
            gx = engine.elementwise(_scale, gy, gamma * inv_std)
    if not need_param_grads:
        ggamma = gbeta = None
    return gx, ggamma, gbeta


def update_running_stats(running_mean, running_var, cache, count, momentum):
    """In place: running = (1 - momentum) * running + momentum * batch statistic.

    ``count`` is M, the number of values per channel; running_var receives the
    *unbiased* batch variance var * M / (M - 1), as PyTorch does.
    """
    running_mean *= 1 - momentum
    running_mean += momentum * cache["mean"]
    running_var *= 1 - momentum
    running_var += (momentum * count / (count - 1)) * cache["var"]
