"""The CPU engine: the reference primitives in pieces on minigan's threads (NumPy).

Each primitive gives the reference engine's result (to float rounding: a split product
or sum adds in another order) and says in one line what its speed trick buys.
``threads.py`` runs the pieces, one per core, with OpenBLAS on one thread inside a
region; ``buffers.py`` holds the per-thread scratch arrays they reuse.
"""

from .. import backend
from . import threads, unfold
from .buffers import scratch, scratch_zeros
from .reference import ReferenceEngine

MATMUL_SPLIT_MIN = 1 << 21   # multiply-adds below which a product is not worth a thread hand-off
ROWS_MIN = 16                # the fewest rows (or columns) a piece of a product gets
INNER_PIECES = 4             # a long inner dimension is cut into this many pieces, always
VALUES_MIN = 1 << 22         # the fewest values a thread's piece of an elementwise rule gets
BLOCK_VALUES = 1 << 16       # elementwise rules run on blocks of this many values
ADAM_VALUES_MIN = 1 << 16    # the fewest values a piece of Adam's update gets
FOLD_VALUES = 1 << 20        # col2im_product folds blocks of samples of this many product values


class CpuEngine(ReferenceEngine):
    name = "cpu"
    sample_chunk = 128
    """Generating in passes of 128 samples keeps the activations small enough to stay in
    the CPU's caches and to be reused (1,000 samples at once made ~200 MB of fresh arrays)."""

    def region(self):
        """Buys: the BLAS's spinning workers are not woken between a step's operations,
        and (``memory.py``) the step's large arrays reuse pages instead of faulting."""
        return threads.region()

    def matmul(self, a, b):
        """Buys: every core on every product, with the BLAS on one thread (see threads.py).

        Split along the longest side: rows of a, columns of b, or -- for a small result
        with a long inner dimension, such as a first layer's weight gradient -- the inner
        dimension, whose partial products are then added.
        """
        xp = backend.xp
        m, k = a.shape
        p = b.shape[1]
        out = xp.empty((m, p), dtype=xp.result_type(a.dtype, b.dtype))
        if k == 1:   # an outer product: one broadcast multiply (a GEMM with K = 1 is slow)
            return xp.multiply(a, b, out=out)
        if m * k * p < MATMUL_SPLIT_MIN:
            return xp.matmul(a, b, out=out)
        if k > 4 * max(m, p):
            # fixed pieces of the inner dimension, whatever the thread count: same bits
            bounds = [k * i // INNER_PIECES for i in range(INNER_PIECES + 1)]
            partials = xp.empty((INNER_PIECES, m, p), dtype=out.dtype)

            def part(first, last):
                for i in range(first, last):
                    xp.matmul(a[:, bounds[i]:bounds[i + 1]], b[bounds[i]:bounds[i + 1]],
                              out=partials[i])

            threads.split(INNER_PIECES, part)
            return xp.sum(partials, axis=0, out=out)
        if threads.threads() == 1:
            xp.matmul(a, b, out=out)
        elif m >= p:
            threads.split(m, lambda s, e: xp.matmul(a[s:e], b, out=out[s:e]), ROWS_MIN)
        else:
            threads.split(p, lambda s, e: xp.matmul(a, b[:, s:e], out=out[:, s:e]), ROWS_MIN)
        return out

    def im2col(self, x, kernel, stride, padding):
        """Buys: the copy runs on every core, each piece padding its samples in a reused
        buffer instead of a fresh padded copy of the whole batch."""
        xp = backend.xp
        (kh, kw), (sh, sw), (ph, pw), (oh, ow) = unfold.conv_geometry(x.shape, kernel, stride,
                                                                      padding)
        n, h, w, c = x.shape
        cols = xp.empty((n * oh * ow, kh * kw * c), dtype=x.dtype)
        cols6 = cols.reshape(n, oh, ow, kh, kw, c)

        def part(s, e):
            if ph or pw:
                padded = scratch("im2col.padded", (e - s, h + 2 * ph, w + 2 * pw, c), x.dtype)
                _zero_border(padded, ph, pw)
                padded[:, ph:ph + h, pw:pw + w] = x[s:e]
            else:
                padded = x[s:e]
            xp.copyto(cols6[s:e], unfold.windows(padded, oh, ow, kh, kw, sh, sw))

        threads.split(n, part)
        return cols

    def col2im(self, cols, shape, kernel, stride, padding):
        """Buys: the KH*KW slice-adds run on every core, each piece into its own reused
        zero-padded buffer."""
        xp = backend.xp
        (kh, kw), (sh, sw), (ph, pw), (oh, ow), (hp, wp) = _fold_geometry(shape, kernel, stride,
                                                                          padding)
        n, h, w, c = shape
        cols6 = cols.reshape(n, oh, ow, kh, kw, c)
        out = xp.empty(shape, dtype=cols.dtype)

        def part(s, e):
            x_pad = scratch_zeros("col2im.padded", (e - s, hp, wp, c), cols.dtype)
            unfold.add_windows(x_pad, cols6[s:e], sh, sw)
            out[s:e] = x_pad[:, ph:ph + h, pw:pw + w]

        threads.split(n, part)
        return out

    def col2im_product(self, a, b, shape, kernel, stride, padding):
        """Buys: each block of a few samples is multiplied into a reused buffer and folded
        while it is still in the cache (measured ~3 ms per DCGAN layer at batch 64 over
        folding one whole product), on every core."""
        xp = backend.xp
        (kh, kw), (sh, sw), (ph, pw), (oh, ow), (hp, wp) = _fold_geometry(shape, kernel, stride,
                                                                          padding)
        n, h, w, c = shape
        per_sample = oh * ow
        chunk = max(1, min(n, FOLD_VALUES // (per_sample * b.shape[1])))
        out = xp.empty(shape, dtype=xp.result_type(a.dtype, b.dtype))

        def part(s, e):
            for first in range(s, e, chunk):
                last = min(first + chunk, e)
                product = scratch("fold.product", ((last - first) * per_sample, b.shape[1]),
                                  out.dtype)
                xp.matmul(a[first * per_sample:last * per_sample], b, out=product)
                x_pad = scratch_zeros("fold.padded", (last - first, hp, wp, c), out.dtype)
                unfold.add_windows(x_pad, product.reshape(last - first, oh, ow, kh, kw, c),
                                   sh, sw)
                out[first:last] = x_pad[:, ph:ph + h, pw:pw + w]

        threads.split(n, part)
        return out

    def channel_sums(self, x):
        """Buys: a product with a vector of ones (one BLAS call) is ~2.5x faster than
        NumPy's sum over the leading axes."""
        xp = backend.xp
        x2 = x.reshape(-1, x.shape[-1])
        return xp.matmul(_ones(x2.shape[0], x.dtype), x2)

    def channel_dots(self, a, b):
        """Buys: ``einsum`` sums the products in one pass, without the product array
        (~2x faster than sum(a * b))."""
        c = a.shape[-1]
        return backend.xp.einsum("ij,ij->j", a.reshape(-1, c), b.reshape(-1, c))

    def elementwise(self, rule, *args):
        """Buys: the rule's temporaries stay in the cache: arrays of 2 * BLOCK_VALUES values
        or more go through the rule in blocks of BLOCK_VALUES values (in isolation ~1.4x
        faster for a rule of a few operations; within a training step, about even).
        Several threads only for arrays of millions of values: below that, measured, a
        second thread made these memory-bound passes slower (the halves must move to the
        other core's cache, and short NumPy calls on two threads contend for the GIL)."""
        xp = backend.xp
        x = args[0]
        column = (x.shape[0], 1) if x.ndim == 2 else None   # one value per row of a 2-d x
        splittable = [isinstance(a, xp.ndarray) and a.shape in (x.shape, column) for a in args]
        whole = [not s and (not isinstance(a, xp.ndarray) or a.ndim <= 1)
                 for a, s in zip(args, splittable)]
        if (x.ndim == 0 or x.size < 2 * BLOCK_VALUES
                or not all(s or w for s, w in zip(splittable, whole))):
            return rule(*args)
        width = x.shape[-1] if x.ndim > 1 else 1
        rows = x.size // width
        views = [a.reshape(rows, -1) if s and x.ndim > 1 else a for a, s in zip(args, splittable)]
        out = xp.empty_like(views[0])
        block = max(1, BLOCK_VALUES // width)

        def part(s, e):
            for start in range(s, e, block):
                r = slice(start, min(start + block, e))
                out[r] = rule(*(v[r] if split else v for v, split in zip(views, splittable)))

        threads.split(rows, part, max(1, VALUES_MIN // width))
        return out.reshape(x.shape)

    def adam_update(self, p, g, m, v, step_size, beta1, beta2, root_correction, eps):
        """Buys: every core (measured ~1.8x on the generator's 627,200 weights: unlike the
        elementwise rules, these arrays are not in the main core's cache) and no fresh
        temporaries (one reused buffer per thread); the operations and their order are
        the reference's, so the result is the same to the bit."""
        xp = backend.xp

        def update(s, e):
            rows = slice(s, e)
            pr, gr, mr, vr = p[rows], g[rows], m[rows], v[rows]
            tmp = scratch("adam.tmp", pr.shape, pr.dtype)
            mr *= beta1
            xp.multiply(g[rows], 1 - beta1, out=tmp)
            mr += tmp                                   # m = b1 m + (1 - b1) g
            vr *= beta2
            xp.multiply(gr, gr, out=tmp)
            tmp *= 1 - beta2
            vr += tmp                                   # v = b2 v + (1 - b2) g^2
            xp.sqrt(vr, out=tmp)
            tmp /= root_correction
            tmp += eps                                  # sqrt(v_hat) + eps
            xp.divide(mr, tmp, out=tmp)
            tmp *= step_size
            pr -= tmp

        if p.ndim == 0:
            return super().adam_update(p, g, m, v, step_size, beta1, beta2, root_correction, eps)
        per_row = max(1, p.size // max(1, p.shape[0]))
        threads.split(p.shape[0], update, max(1, ADAM_VALUES_MIN // per_row))


def _fold_geometry(shape, kernel, stride, padding):
    """``unfold.conv_geometry`` and the padded size (HP, WP) that col2im folds into."""
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = unfold.conv_geometry(shape, kernel, stride, padding)
    _, h, w, _ = shape
    return ((kh, kw), (sh, sw), (ph, pw), (oh, ow),
            (unfold.padded_size(h, oh, kh, sh, ph), unfold.padded_size(w, ow, kw, sw, pw)))


def _zero_border(padded, ph, pw):
    """Zero the PH-row and PW-column frame of padded (N, H + 2PH, W + 2PW, C)."""
    if ph:
        padded[:, :ph] = 0
        padded[:, -ph:] = 0
    if pw:
        padded[:, :, :pw] = 0
        padded[:, :, -pw:] = 0


_ones_cache = {}


def _ones(n, dtype):
    """A read-only vector of n ones (a view of one cached vector per dtype)."""
    xp = backend.xp
    key = (xp.dtype(dtype), backend.name)
    ones = _ones_cache.get(key)
    if ones is None or ones.shape[0] < n:
        ones = _ones_cache[key] = xp.ones(max(n, 1024), dtype=dtype)
    return ones[:n]
