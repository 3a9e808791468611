"""Batch normalisation over the channel axis (the last axis), PyTorch's semantics.

Works for (N, C) inputs (BatchNorm1d) and NHWC (N, H, W, C) inputs (BatchNorm2d):
statistics are taken over every axis but the last, M = N (or N*H*W) values per
channel.

Training:  mu = mean(x),  var = mean((x - mu)^2)  (biased),
           xhat = (x - mu) / sqrt(var + eps),  y = gamma * xhat + beta.
Eval:      the same with the running statistics in place of mu and var.
Running statistics are updated by the caller (the module) from the batch
statistics this forward returns: see ``update_running_stats``.
"""

import math

from .. import backend, parallel


def _reduce_axes(x):
    return tuple(range(x.ndim - 1))


def batch_norm_forward(x, gamma, beta, eps=1e-5):
    """Training-mode batch norm with batch statistics.

    x (..., C), gamma (C,), beta (C,) -> y (..., C); cache holds xhat, 1/std,
    gamma and the batch mean and biased variance (cache["mean"], cache["var"]).
    """
    xp = backend.xp
    axes = _reduce_axes(x)
    mean = x.mean(axis=axes)
    centered = x - mean
    var = (centered * centered).mean(axis=axes)
    inv_std = 1 / xp.sqrt(var + eps)
    xhat = centered
    xhat *= inv_std  # reuse the buffer: `centered` is not needed any more
    y = xhat * gamma
    y += beta
    cache = {"xhat": xhat, "inv_std": inv_std, "gamma": gamma, "mean": mean, "var": var,
             "training": True}
    return y, cache


def batch_norm_eval_forward(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Eval-mode batch norm: an affine map with the running statistics. Shapes as above."""
    xp = backend.xp
    inv_std = 1 / xp.sqrt(running_var + eps)
    # y = gamma * (x - mean) * inv_std + beta is one affine map per channel,
    # y = x * scale + shift: two passes over x instead of four (generating samples in
    # eval mode spent more time here than in the transposed convolutions).  xhat is
    # only needed for dL/dgamma: backward recomputes it from x when it is asked for.
    scale = gamma * inv_std
    shift = beta - running_mean * scale
    x2 = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])             # (M, C)
    y = xp.empty_like(x2)

    def part(r):  # speed: blocks of rows on minigan.parallel's threads (same result)
        xp.multiply(x2[r], scale, out=y[r])
        y[r] += shift

    parallel.over_rows(x2, part)
    y = y.reshape(x.shape)
    cache = {"x": x, "mean": running_mean.copy(), "inv_std": inv_std, "gamma": gamma,
             "training": False}
    return y, cache


def batch_norm_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients (gx (..., C), ggamma (C,), gbeta (C,)) from gy = dL/dy (..., C).

    None for what was not asked for.
    """
    inv_std, gamma = cache["inv_std"], cache["gamma"]
    axes = _reduce_axes(gy)
    training = cache["training"]
    if training or need_param_grads:
        # eval mode keeps x, not xhat (see batch_norm_eval_forward)
        xhat = cache["xhat"] if training else (cache["x"] - cache["mean"]) * inv_std
        # y = gamma * xhat + beta  =>  dL/dbeta = sum gy,  dL/dgamma = sum gy * xhat
        gbeta = gy.sum(axis=axes)
        ggamma = (gy * xhat).sum(axis=axes)
    gx = None
    if need_input_grad:
        if training:
            # mu and var depend on x: with g = gamma * gy and M values per channel,
            # dL/dx = inv_std / M * (M g - sum(g) - xhat * sum(g * xhat))
            #       = gamma * inv_std * (gy - mean(gy) - xhat * mean(gy * xhat))
            m = xhat.size // xhat.shape[-1]
            gx = xhat * (ggamma / m)
            gx += gbeta / m
            gx -= gy  # gx now holds -(gy - mean(gy) - xhat * mean(gy * xhat))
            gx *= -(gamma * inv_std)
        else:
            # eval: y is affine in x  =>  dL/dx = gy * gamma * inv_std
            gx = gy * (gamma * inv_std)
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
