"""LabelConditioned: feed a class label to a network by concatenating its one-hot code.

This is how the conditional GAN of Mirza & Osindero (2014) conditions both networks
on the class y: the generator sees [z, onehot(y)], the discriminator [x, onehot(y)].

    forward(x, labels):   x (N, ...) float, labels (N,) int in [0, num_classes)
        h = concat([x.reshape(N, F), onehot(labels)], axis=1)    # (N, F + num_classes)
        y = inner(h)
    backward(gy):         dL/dh = inner.backward(gy)             # (N, F + num_classes)
        dL/dx = dL/dh[:, :F].reshape(x.shape)                    # label columns dropped:
                                                                 # labels are not differentiable
"""

import math

from .. import backend
from ..errors import ConfigError, ShapeError, StateError
from ..validate import check_array, class_count, is_int
from .labels import Labelled
from .module import Module


class _Name(str):
    """A layer name for the shared checks' messages (they print ``repr(layer)``)."""

    __repr__ = str.__str__


class LabelConditioned(Labelled):
    """y = inner(concat([flatten(x), onehot(labels)])).

    ``inner`` is any Module taking (N, F + num_classes), F = prod(x.shape[1:]).
    ``input_shape`` (optional, batch axis excluded) is checked on every forward so a
    wrong image size is reported here rather than as a feature-count mismatch inside
    ``inner``. The state_dict keys are the inner module's under ``net.``
    ("net.0.weight"), as a PyTorch module holding ``self.net`` would have them.

    How the labels are checked (``check_labels``, once per user-level call ``layer(x,
    labels)``; ``forward`` checks dtype and shape only): ``minigan.nn.labels``.
    """

    def __init__(self, inner, num_classes, input_shape=None):
        super().__init__()
        if not isinstance(inner, Module):
            raise ConfigError(f"LabelConditioned: inner must be a minigan Module, "
                              f"got {type(inner).__name__}")
        class_count("LabelConditioned", num_classes)
        if input_shape is not None:
            input_shape = tuple(input_shape)
            if not input_shape or not all(is_int(d) and d > 0 for d in input_shape):
                raise ConfigError(f"LabelConditioned: input_shape must be positive ints "
                                  f"(batch axis excluded), got {input_shape!r}")
        self.num_classes = int(num_classes)
        self.input_shape = input_shape
        self.net = inner

    def forward(self, x, labels):
        xp = backend.xp
        check_array(_Name(self._where()), x, None, "(N, ...)")
        if self.input_shape is not None and tuple(x.shape[1:]) != self.input_shape:
            expected = ", ".join(str(d) for d in ("N",) + self.input_shape)
            raise ShapeError(f"{self._where()}: expected inputs of shape ({expected}), "
                             f"got {tuple(x.shape)}")
        labels = self._label_array(labels, x.shape[0])  # dtype and shape: no sync
        n = x.shape[0]
        features = math.prod(x.shape[1:])
        onehot = self.onehot(labels, x.dtype)                              # (N, K)
        h = xp.concatenate([x.reshape(n, features), onehot], axis=1)       # (N, F + K)
        y = self.net.run_forward(h)
        self._cache = (tuple(x.shape), features)
        return y

    def backward(self, gy, need_input_grad=True):
        """dL/dx (the shape of the forward's x); the one-hot columns' gradient is dropped.
        With ``need_input_grad=False`` returns None (the inner parameter gradients are
        still accumulated)."""
        if self._cache is None:
            raise StateError(f"{self._where()}: backward called without a preceding forward "
                             "(or twice for one forward)")
        (x_shape, features), self._cache = self._cache, None
        gh = self.net.run_backward(gy, need_input_grad)
        if not need_input_grad:
            return None
        return gh[:, :features].reshape(x_shape)

    def extra_repr(self):
        shape = "" if self.input_shape is None else f", input_shape={self.input_shape}"
        return f"num_classes={self.num_classes}{shape}"

    def __repr__(self):
        net = repr(self.net).replace("\n", "\n  ")
        return f"LabelConditioned({self.extra_repr()},\n  (net): {net}\n)"

    def _where(self):
        """The short name used in error messages."""
        return f"LabelConditioned({self.extra_repr()})"
