"""Modules called with class labels, ``net(x, labels)``: what they share is how the labels
are checked (the conditional GAN of Mirza & Osindero 2014 feeds them to both networks).

``labels`` may be a backend array, a NumPy array or a list (copied to the device with
``backend.to_device``); they must be integers of shape (N,) in [0, num_classes). The
range is checked by the user-level call ``net(x, labels)`` (``check_labels``: one
device->host sync), because CuPy wraps out-of-range indices around instead of raising;
``forward`` -- the path containers and the Trainer take, with labels they made or checked
once -- checks dtype and shape only, so a training step does not pay one sync per pass.
"""

from .. import backend
from ..errors import ConfigError, DTypeError, ShapeError
from .module import Module


class Labelled(Module):
    """A module with ``num_classes`` and a ``forward(x, labels)``; subclasses set
    ``self.num_classes`` and define ``_where()`` (the name in messages)."""

    def __call__(self, x, labels):
        """The checked call: labels in range (one sync), x finite, then ``forward``."""
        n = x.shape[0] if isinstance(x, backend.xp.ndarray) and x.ndim else None
        return super().__call__(x, self.check_labels(labels, n))

    def _label_array(self, labels, n):
        """labels as an integer device array (n,) -- dtype and shape checked, no sync."""
        xp = backend.xp
        if not isinstance(labels, xp.ndarray):
            try:
                labels = backend.to_device(labels)
            except Exception as error:  # e.g. a ragged list
                raise DTypeError(f"{self._where()}: labels must be an integer array of shape "
                                 f"(N,), got {type(labels).__name__} ({error})") from None
        if labels.dtype.kind not in "iu":
            raise DTypeError(f"{self._where()}: labels must be integers (class indices), got "
                             f"dtype {labels.dtype} (convert with labels.astype('int64'))")
        if labels.ndim != 1 or (n is not None and labels.shape[0] != n):
            raise ShapeError(f"{self._where()}: labels must have shape ({n},) to match the batch, "
                             f"got {tuple(labels.shape)}")
        return labels

    def check_labels(self, labels, n=None):
        """labels as an integer device array (n,) with every value in [0, num_classes), or
        a clear error. One device->host sync (the range): called once per user-level
        call, not per forward."""
        labels = self._label_array(labels, n)
        if labels.size and bool(((labels < 0) | (labels >= self.num_classes)).any()):
            raise ConfigError(f"{self._where()}: labels must lie in [0, {self.num_classes}), got "
                              f"values in [{int(labels.min())}, {int(labels.max())}]")
        return labels

    def onehot(self, labels, dtype):
        """(N,) class indices -> (N, num_classes) rows of the identity."""
        return backend.xp.eye(self.num_classes, dtype=dtype)[labels]
