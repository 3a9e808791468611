"""Spectral normalisation (Miyato et al. 2018): W_sn = W / sigma(W), sigma the largest
singular value, estimated by power iteration.

Matrix view. A weight is seen as the matrix W (C_out, R) = ``weight.reshape(R, C_out).T``
(``as_matrix``), R = IN for Dense (IN, OUT) and R = KH*KW*C_in for Conv2d
(KH, KW, C_in, C_out): the transpose of the matrix the layer's GEMM multiplies by
(a view, no copy). It has PyTorch's shape (out, in*kh*kw); for Conv2d its columns are
in (kh, kw, c_in) order instead of PyTorch's (c_in, kh, kw) -- a column permutation,
which changes neither sigma nor the left singular vector u (C_out,). So ``u`` here is
PyTorch's ``weight_u``, and the power iteration below is ``torch.nn.utils.spectral_norm``'s.

    repeat n times (training):  v = normalize(W^T u),  u = normalize(W v)
    then:                        v = normalize(W^T u)            (R,)
                                 sigma = u^T W v  (= ||W^T u||)
                                 W_sn  = W / sigma

u and v are constants for the gradient (as in PyTorch). For the u used, sigma(W) =
||W^T u|| exactly, so dsigma/dW = u v^T is its true derivative; only the dependence of
u itself on W through the power iteration is ignored.
"""

from .. import backend


def as_matrix(w):
    """A Dense (IN, OUT) or Conv2d (KH, KW, C_in, C_out) weight as W (C_out, R), a view."""
    return w.reshape(-1, w.shape[-1]).T


def from_matrix(m, shape):
    """Inverse of ``as_matrix``: (C_out, R) -> the weight's ``shape``."""
    return m.T.reshape(shape)


def normalize(a, eps):
    """a / max(||a||, eps) (as torch.nn.functional.normalize)."""
    xp = backend.xp
    return a / xp.maximum(xp.sqrt((a * a).sum()), eps)


def spectral_normalize(w, u, n_power_iterations=1, eps=1e-12):
    """W_sn = W / sigma with sigma = u^T W v after ``n_power_iterations`` steps from u.

    w (C_out, R), u (C_out,) a unit vector -> (w_sn (C_out, R), u_new (C_out,), cache).
    ``n_power_iterations=0`` (eval mode) uses u as given. u is not modified.
    """
    for _ in range(n_power_iterations):
        v = normalize(w.T @ u, eps)                 # (R,)
        u = normalize(w @ v, eps)                   # (C_out,)
    t = w.T @ u                                     # (R,)  W^T u
    v = normalize(t, eps)                           # (R,)
    sigma = t @ v                                   # () = u^T W v = ||W^T u||
    w_sn = w / sigma
    return w_sn, u, (w_sn, u, v, sigma)


def spectral_normalize_backward(g_wsn, cache):
    """dL/dW (C_out, R) from G = dL/dW_sn (C_out, R); G is not modified."""
    # W_sn = W / sigma, dsigma/dW = u v^T  =>  dL/dW = G / sigma - <G, W> u v^T / sigma^2
    #                                              = (G - <G, W_sn> u v^T) / sigma
    xp = backend.xp
    w_sn, u, v, sigma = cache
    return (g_wsn - (g_wsn * w_sn).sum() * xp.outer(u, v)) / sigma
