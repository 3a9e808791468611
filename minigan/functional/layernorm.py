"""Layer normalisation (Ba et al. 2016) over the trailing axes, PyTorch's semantics.

Every group of M values that share the leading indices -- for an image (N, H, W, C) with
normalized_shape (H, W, C), one sample -- is normalised on its own, with an elementwise
affine map:

    mu = mean(x_group),  var = mean((x_group - mu)^2)  (biased),
    xhat = (x - mu) / sqrt(var + eps),   y = gamma * xhat + beta,

gamma and beta of the trailing shape (M values each). There are no running statistics,
training and eval are the same, and a sample's output depends on that sample only: why
the WGAN-GP critic (Gulrajani et al. 2017) uses it where a DCGAN has BatchNorm -- its
gradient penalty is a per-sample quantity.

LayerNorm's statistics are BatchNorm's on the transposed view. With the L groups as the
rows of ``rows = x.reshape(L, M)``, the view ``rows.T`` (M, L) has one *column* per group,
and the per-group statistics are BatchNorm's ``standardize`` of it (per-channel sums by
``engine.channel_sums`` / ``engine.channel_dots``), the groups playing the channels. The
affine map works on ``rows``, where gamma and beta are (M,) vectors along the last axis.

``layer_norm_double_backward`` (below the backward) is what a gradient penalty needs:
the input gradient of a LayerNorm depends on x through mu and sigma, so differentiating
it again gives a term in x (see docs/backprop_through_the_backprop.md).
"""

import math

from .. import engine
from .batchnorm import standardize


def _columns(a, m):
    """(..., trailing) -> the (M, L) view with one column per normalised group."""
    return a.reshape(-1, m).T


def _scale(x, factor):
    return x * factor


def _affine(x, scale, shift):
    return x * scale + shift


def _project(g, xhat, inv_std, mean_g, mean_g_xhat):
    # the normalisation's Jacobian P = inv_std (I - 1 1^T / M - xhat xhat^T / M), applied to g
    return inv_std * (g - mean_g - xhat * mean_g_xhat)


def layer_norm_forward(x, gamma, beta, normalized_shape, eps=1e-5):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta over the trailing ``normalized_shape``.

    x (..., *normalized_shape), gamma and beta normalized_shape or None (no affine map)
    -> y of x's shape. Returns (y, cache); the cache holds xhat, 1/std (L,) and gamma.
    """
    m = math.prod(normalized_shape)
    # BatchNorm's statistics of the (M, L) view: one group per column, inv_std (L,)
    xhat_columns, inv_std, _, _ = standardize(_columns(x, m), eps)
    xhat = xhat_columns.T.reshape(x.shape)
    if gamma is None:
        y = xhat.copy()
    else:
        y = engine.elementwise(_affine, xhat.reshape(-1, m), gamma.reshape(m),
                               beta.reshape(m)).reshape(x.shape)
    return y, (xhat, inv_std, gamma, m)


def layer_norm_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    """Gradients (gx of x's shape, ggamma, gbeta of normalized_shape) from gy = dL/dy.

    None for what was not asked for, and for ggamma, gbeta without an affine map.
    """
    # y = gamma * xhat + beta  =>  dL/dbeta = sum_groups gy,  dL/dgamma = sum_groups gy * xhat;
    # mu and var depend on x: with g = gamma * gy, per group (as BatchNorm, per channel)
    # dL/dx = P g = inv_std * (g - mean(g) - xhat * mean(g * xhat))
    xhat, inv_std, gamma, m = cache
    ggamma = gbeta = gx = None
    if need_param_grads and gamma is not None:
        ggamma = engine.channel_dots(gy.reshape(-1, m), xhat.reshape(-1, m)).reshape(gamma.shape)
        gbeta = engine.channel_sums(gy.reshape(-1, m)).reshape(gamma.shape)
    if need_input_grad:
        gx = _apply_projection(_times_gamma(gy, gamma, m), xhat, inv_std, m)
    return gx, ggamma, gbeta


def _times_gamma(gy, gamma, m):
    """gamma * gy (gy itself without an affine map)."""
    if gamma is None:
        return gy
    return engine.elementwise(_scale, gy.reshape(-1, m), gamma.reshape(m)).reshape(gy.shape)


def _apply_projection(g, xhat, inv_std, m):
    """P g for each group: the normalisation's input gradient for the upstream gradient g."""
    g_c, xhat_c = _columns(g, m), _columns(xhat, m)
    mean_g = engine.channel_sums(g_c) / m
    mean_g_xhat = engine.channel_dots(g_c, xhat_c) / m
    return engine.elementwise(_project, g_c, xhat_c, inv_std, mean_g,
                              mean_g_xhat).T.reshape(g.shape)


def _second_order_input_term(xhat, pv, pg, inv_std, mean_v_pg, mean_g_xhat, mean_v_xhat):
    return -inv_std * (xhat * mean_v_pg + pv * mean_g_xhat + pg * mean_v_xhat)


def layer_norm_double_backward(v, gy, cache, need_param_grads=True):
    """Differentiate the backward gx = P (gamma * gy) once more, for v = dPen/dgx (x's shape).

    Returns (ggy, gx, ggamma): dPen/dgy (x's shape), dPen/dx through the dependence of P on
    x (x's shape), dPen/dgamma (normalized_shape; None without an affine map or when not
    asked for). The backward does not depend on beta.
    """
    # <v, P g> with g = gamma * gy, P symmetric:  dPen/dg = P v, so dPen/dgy = gamma * P v
    # and dPen/dgamma = sum_groups gy * P v.  P depends on x through xhat and sigma
    # (d sigma / dx = xhat / M, d xhat / dx = P): per group,
    # dPen/dx = -inv_std * (xhat mean(v * P g) + P v mean(g * xhat) + P g mean(v * xhat))
    xhat, inv_std, gamma, m = cache
    g = _times_gamma(gy, gamma, m)
    pv = _apply_projection(v, xhat, inv_std, m)
    pg = _apply_projection(g, xhat, inv_std, m)
    ggy = _times_gamma(pv, gamma, m)
    ggamma = None
    if need_param_grads and gamma is not None:
        ggamma = engine.channel_dots(gy.reshape(-1, m), pv.reshape(-1, m)).reshape(gamma.shape)
    v_c, xhat_c, pv_c, pg_c = (_columns(a, m) for a in (v, xhat, pv, pg))
    mean_v_pg = engine.channel_dots(v_c, pg_c) / m
    mean_g_xhat = engine.channel_dots(_columns(g, m), xhat_c) / m
    mean_v_xhat = engine.channel_dots(v_c, xhat_c) / m
    gx = engine.elementwise(_second_order_input_term, xhat_c, pv_c, pg_c, inv_std, mean_v_pg,
                            mean_g_xhat, mean_v_xhat).T.reshape(v.shape)
    return ggy, gx, ggamma
