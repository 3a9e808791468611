"""Parameter: a trainable array and the gradient accumulated for it."""

from .. import backend


class Parameter:
    """A trainable array ``data`` with its gradient ``grad`` (same shape and dtype).

    ``data`` is kept on the active backend (a NumPy array becomes a CuPy array under
    ``backend.use("cupy")``).

    ``backward`` passes *add* into ``grad``; ``zero_grad`` resets it in place, so an
    optimizer may keep references to both arrays. ``requires_grad=False`` (set by
    ``Module.freeze``) tells layers to skip computing this gradient and optimizers
    to leave the parameter alone.
    """

    def __init__(self, data):
        self.data = backend.to_device(data)  # host arrays are copied to the active backend
        self.grad = backend.xp.zeros_like(self.data)
        self.requires_grad = True

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def zero_grad(self):
        self.grad.fill(0)

    def accumulate(self, gradient):
        """grad += gradient (no-op when gradient is None)."""
        if gradient is not None:
            self.grad += gradient

    def __repr__(self):
        return f"Parameter(shape={tuple(self.data.shape)}, dtype={self.data.dtype})"
