"""Minibatch standard deviation (Karras et al. 2018, "Progressive Growing of GANs"):
the simple form of minibatch discrimination. One extra feature tells the
discriminator how varied its batch is, so a collapsed generator (all samples alike)
becomes easy to spot.

Shapes: x (N, F) or NHWC (N, H, W, C) -> y (N, F + 1) or (N, H, W, C + 1).
The batch is cut into N / g groups of g *consecutive* samples (g = N by default);
with D = the number of features of one sample (F, or H*W*C):

    mu[k, f]    = mean_{n in group k} x[n, f]                  per feature (h, w, c)
    sigma[k, f] = sqrt(mean_{n in group k} (x[n, f] - mu[k, f])^2 + eps)   (biased var)
    s[k]        = mean_f sigma[k, f]                            one scalar per group
    y[n]        = concat(x[n], s[group of n])                   s fills one new channel
"""

from .. import backend
from ..errors import ShapeError


def minibatch_stddev_forward(x, eps=1e-8, group_size=None):
    """y = x with one more channel (last axis) holding its group's mean std.

    x (N, F) or (N, H, W, C); group_size g divides N (None: g = N, one group)
    -> y (N, F + 1) or (N, H, W, C + 1), dtype kept. A group of one sample has
    variance 0, so s = sqrt(eps) there.
    """
    xp = backend.xp
    n = x.shape[0]
    g = n if group_size is None else group_size
    if n % g:
        raise ShapeError(f"minibatch_stddev: the batch size must be a multiple of "
                         f"group_size={g}, got shape {tuple(x.shape)}")
    xg = x.reshape(n // g, g, -1)                                   # (G, g, D)
    mu = xg.mean(axis=1, keepdims=True)                             # (G, 1, D)
    d = xg - mu                                                     # (G, g, D)
    sigma = xp.sqrt((d * d).mean(axis=1, keepdims=True) + eps)      # (G, 1, D)
    s = sigma.mean(axis=2)                                          # (G, 1)
    s_n = xp.repeat(s.reshape(-1), g).reshape((n,) + (1,) * (x.ndim - 1))   # (N, 1, ..., 1)
    y = xp.concatenate([x, xp.broadcast_to(s_n, x.shape[:-1] + (1,))], axis=-1)  # (N, ..., C+1)
    return y, (d, sigma, tuple(x.shape))


def minibatch_stddev_backward(gy, cache):
    """dL/dx (the shape of x) from gy = dL/dy (N, ..., C + 1); gy is not modified."""
    # y = [x, s]; s_k = (1/D) sum_f sigma_kf, dsigma_kf/dx_nf = (x_nf - mu_kf) / (g sigma_kf)
    # (the mu-term vanishes: sum_n (x_nf - mu_kf) = 0)  =>
    # dL/dx_nf = gy_x[n, f] + gs_k (x_nf - mu_kf) / (g D sigma_kf), gs_k = sum over group k of gy_s
    d, sigma, shape = cache
    groups, g, features = d.shape
    gs = gy[..., -1:].reshape(groups, g, -1).sum(axis=(1, 2))       # (G,) = dL/ds_k
    through_s = gs.reshape(groups, 1, 1) * d / (g * features * sigma)  # (G, g, D)
    return gy[..., :-1] + through_s.reshape(shape)
