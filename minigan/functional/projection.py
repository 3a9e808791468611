"""The projection term of a projection discriminator (Miyato & Koyama 2018, "cGANs with
Projection Discriminator"): a class's embedding vector dotted with the image's features.

    h (N, F)   the features of each image (the discriminator's trunk)
    e (N, F)   the embedding of each image's class: row y_n of a (K, F) matrix E
    p (N, 1)   p_n = sum_f e[n, f] * h[n, f]

    backward:  dL/dh = gy * e,   dL/de = gy * h        (gy (N, 1) scales each row)

The sums over f are a product with a column of ones, (h * e) @ 1; the row scaling by gy
is an ``engine.elementwise`` rule with an (N, 1) column.
"""

from .. import backend, engine


def _product(a, b):
    return a * b


def projection_forward(h, e):
    """p = rowwise <e, h>: h, e (N, F) of one dtype -> p (N, 1). Returns (p, cache = (h, e))."""
    ones = backend.xp.ones((h.shape[1], 1), dtype=h.dtype)
    return engine.matmul(engine.elementwise(_product, h, e), ones), (h, e)


def projection_backward(gy, cache):
    """(gh, ge) = (gy * e, gy * h), each (N, F), from gy = dL/dp (N, 1); gy is not modified."""
    # p_n = sum_f e_nf h_nf  =>  dp_n/dh_nf = e_nf, dp_n/de_nf = h_nf
    h, e = cache
    return engine.elementwise(_product, e, gy), engine.elementwise(_product, h, gy)
