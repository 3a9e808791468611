"""The reference engine: every primitive as its plain definition, on whole arrays.

This is what the functional core means by each primitive; the CPU and device engines
must give the same numbers (to float rounding), and the tests hold them to it.
"""

import contextlib

from .. import backend
from . import unfold


class ReferenceEngine:
    """Plain NumPy/CuPy calls on whole arrays, one after the other."""

    name = "reference"
    sample_chunk = None
    """How many samples ``Trainer.sample`` generates per forward pass (None: all at once)."""

    def region(self):
        """A context for a block of work such as a training step (nothing to set up here)."""
        return contextlib.nullcontext()

    def matmul(self, a, b):
        """a (M, K) @ b (K, P) -> (M, P); a or b may be a transposed view."""
        return backend.xp.matmul(a, b)

    def im2col(self, x, kernel, stride, padding):
        """x (N, H, W, C) -> cols (N*OH*OW, KH*KW*C): see ``unfold.py``."""
        return unfold.im2col(x, kernel, stride, padding)

    def col2im(self, cols, shape, kernel, stride, padding):
        """cols (N*OH*OW, KH*KW*C) -> (N, H, W, C) = shape: the adjoint of im2col."""
        return unfold.col2im(cols, shape, kernel, stride, padding)

    def col2im_product(self, a, b, shape, kernel, stride, padding):
        """col2im(a @ b): a convolution's input gradient (a = gy, b = W^T), or a transposed
        convolution's forward (a = x)."""
        return self.col2im(self.matmul(a, b), shape, kernel, stride, padding)

    def channel_sums(self, x):
        """x (..., C) -> (C,): the sum over every axis but the last."""
        return x.sum(axis=tuple(range(x.ndim - 1)))

    def channel_dots(self, a, b):
        """a, b (..., C) -> (C,): sum of a * b over every axis but the last."""
        return self.channel_sums(a * b)

    def elementwise(self, rule, *args):
        """rule(*args) for an elementwise ``rule``: its array arguments have args[0]'s shape
        or broadcast along the last axis ((C,) vectors) or, for a 2-d args[0] (R, C), along
        the rows ((R, 1) columns); the result has args[0]'s shape and dtype."""
        return rule(*args)

    def adam_update(self, p, g, m, v, step_size, beta1, beta2, root_correction, eps):
        """Adam's update of p, m, v in place (see ``minigan/optim.py`` for the symbols)."""
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        p -= step_size * (m / (backend.xp.sqrt(v) / root_correction + eps))
