"""Pixelwise feature normalisation (Karras et al. 2018, "Progressive Growing of GANs", §4.2).

Every pixel's feature vector is scaled to unit root mean square over its C channels:

    r[n, i, j]       = 1 / sqrt(mean_c x[n, i, j, c]^2 + eps)        (eps = 1e-8)
    y[n, i, j, c]    = x[n, i, j, c] * r[n, i, j]

x (..., C) -> y of the same shape: NHWC images (one vector per pixel) or (N, F) vectors
such as a latent z (one vector per sample). No parameters, no batch statistics: each
pixel is normalised on its own, so a sample's output depends on that sample only. The
progressive generator puts it after every convolution, which keeps its signal magnitudes
from escalating when G and D compete (Karras et al.).

With the L pixels as the rows of ``rows = x.reshape(L, C)``, a mean over each row is a
matrix product with the column (1/C, ..., 1/C): ``engine.matmul`` gives the (L, 1) column
of means, and ``engine.elementwise`` applies per-row factors given as such columns.
"""

from .. import backend, engine


def _square(x):
    return x * x


def _product(a, b):
    return a * b


def _scale(x, factor):
    return x * factor


def _project(gy, y, inv_norm, mean_gy_y):
    # the Jacobian r (I - y y^T / C) of one pixel, applied to gy
    return inv_norm * (gy - y * mean_gy_y)


def row_means(rows):
    """(L, C) -> (L, 1): the mean of each row, as the product rows @ (1/C, ..., 1/C)^T."""
    c = rows.shape[1]
    return engine.matmul(rows, backend.xp.full((c, 1), 1 / c, dtype=rows.dtype))


def pixel_norm_forward(x, eps=1e-8):
    """y = x / sqrt(mean over the last axis of x^2 + eps).

    x (..., C) -> y of x's shape and dtype. Returns (y, cache); the cache holds y and
    r = 1/sqrt(mean x^2 + eps), one per pixel, as an (L, 1) column."""
    rows = x.reshape(-1, x.shape[-1])                               # (L, C)
    mean_square = row_means(engine.elementwise(_square, rows))      # (L, 1)
    inv_norm = 1 / backend.xp.sqrt(mean_square + eps)               # (L, 1) = r
    y = engine.elementwise(_scale, rows, inv_norm)                  # (L, C)
    return y.reshape(x.shape), (y, inv_norm)


def pixel_norm_backward(gy, cache):
    """gx (x's shape) from gy = dL/dy; gy is not modified."""
    # y_k = x_k r with r = (mean_c x_c^2 + eps)^(-1/2), so dr/dx_j = -r^3 x_j / C and
    # dL/dx_j = r gy_j - r^3 x_j sum_k gy_k x_k / C = r (gy_j - y_j mean_k(gy_k y_k))
    y, inv_norm = cache
    gy_rows = gy.reshape(y.shape)                                   # (L, C)
    mean_gy_y = row_means(engine.elementwise(_product, gy_rows, y))  # (L, 1)
    return engine.elementwise(_project, gy_rows, y, inv_norm, mean_gy_y).reshape(gy.shape)
