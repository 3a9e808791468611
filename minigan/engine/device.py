"""The device engine: the primitives as a GPU wants them (CuPy, and the strict test backend).

A GPU runs each array operation as one or a few kernels over the whole batch; what
costs is the number of launches and operations that leave most of the GPU idle. So:

* nothing loops over samples or chunks: im2col is one copy from the window view,
  col2im one slice-add per kernel tap (KH*KW launches, whatever the batch size), and
  ``Trainer.sample`` generates all samples in one pass;
* sums over the leading axes are a product with a vector of ones: CuPy's reduction over
  the leading axes of (512, 14, 14, 64) took 1.06 ms on an H100, ``ones @ x`` 0.04 ms;
* a product whose result is small but whose inner dimension is long (the first conv's
  weight gradient: (25, N*OH*OW) @ (N*OH*OW, 64)) is split along that dimension into
  one batched product plus a sum, so that it fills the GPU instead of a few of its units.

Everything else is the reference engine's plain code.
"""

from .. import backend
from .reference import ReferenceEngine

SMALL_RESULT = 1 << 12   # a product whose result has at most this many values...
PIECES = 64              # ...and a long inner dimension is cut into up to this many pieces


class DeviceEngine(ReferenceEngine):
    name = "device"

    def channel_sums(self, x):
        """x (..., C) -> (C,): ones (M,) @ x (M, C), M the product of the leading axes."""
        xp = backend.xp
        x2 = x.reshape(-1, x.shape[-1])
        return xp.matmul(xp.ones(x2.shape[0], dtype=x.dtype), x2)

    def matmul(self, a, b):
        """a (M, K) @ b (K, P). A small result with a long inner dimension (K > 4 max(M, P),
        M P <= SMALL_RESULT) is computed as S pieces of K in one batched product, then
        summed: (S, M, K/S) @ (S, K/S, P) -> (S, M, P) -> (M, P). The choice depends on
        the shapes' proportions, so a batch of 8 and one of 512 take the same path."""
        xp = backend.xp
        m, k = a.shape
        p = b.shape[1]
        if m * p > SMALL_RESULT or k <= 4 * max(m, p):
            return xp.matmul(a, b)
        pieces = _pieces(k)
        size = k // pieces
        a3 = a.reshape(m, pieces, size).transpose(1, 0, 2)   # (S, M, K/S), a view
        b3 = b.reshape(pieces, size, p)                      # (S, K/S, P)
        return xp.matmul(a3, b3).sum(axis=0)


def _pieces(k):
    """The largest power of two <= PIECES that divides k."""
    pieces = PIECES
    while k % pieces:
        pieces //= 2
    return pieces
