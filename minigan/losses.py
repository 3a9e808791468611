"""Losses: a value (Python float) and its gradient w.r.t. the network's output."""

from . import backend
from . import functional as F
from .errors import ConfigError, DTypeError, ShapeError, StateError
from .validate import check_finite, check_floating


class _Loss:
    """A loss keeps its last call's cache; ``backward`` turns it into d value / d input."""

    _backward = None  # the functional backward: (cache, upstream) -> gradient

    def __init__(self):
        self._cache = None

    def backward(self, upstream=1.0):
        """d (upstream * value) / d logits for the last call."""
        if self._cache is None:
            raise StateError(f"{type(self).__name__}.backward called before the loss was "
                             "computed")
        return type(self)._backward(self._cache, upstream)


class BCEWithLogits(_Loss):
    """Binary cross-entropy on logits, averaged over all elements.

    ``loss(logits, targets)`` returns a Python float; ``loss.backward()`` returns
    d value / d logits (same shape as the logits). ``targets`` is an array of the
    logits' shape or a number (e.g. 0.9 for one-sided label smoothing); every target
    must lie in [0, 1]. Stable for any finite logit (exact at +-1e4); NaN or infinite
    logits or targets raise ``NonFiniteError`` (one pass over each, one host sync).
    """

    _backward = F.bce_with_logits_backward

    def __call__(self, logits, targets):
        xp = backend.xp
        check_floating("BCEWithLogits", "logits", logits)
        check_finite("BCEWithLogits", "logits", logits)
        if isinstance(targets, (int, float)) and not isinstance(targets, bool):
            targets = xp.full(logits.shape, targets, dtype=logits.dtype)
        elif not isinstance(targets, xp.ndarray) or targets.dtype.kind not in "iuf":
            raise DTypeError(f"BCEWithLogits: targets must be a number or a real {backend.name} "
                             f"array, got {type(targets).__name__} "
                             f"{getattr(targets, 'dtype', '')}".rstrip())
        if tuple(targets.shape) != tuple(logits.shape):
            raise ShapeError(f"BCEWithLogits: logits shape {tuple(logits.shape)} and targets "
                             f"shape {tuple(targets.shape)} differ; expected equal shapes")
        if targets.dtype.kind == "f":  # NaN compares false with everything: check it first
            check_finite("BCEWithLogits", "targets", targets, "finite numbers in [0, 1]")
        low, high = float(targets.min()), float(targets.max())
        if not (0.0 <= low and high <= 1.0):
            raise ConfigError(f"BCEWithLogits: targets must lie in [0, 1], got values in "
                              f"[{low}, {high}]")
        value, self._cache = F.bce_with_logits_forward(logits, targets.astype(logits.dtype,
                                                                              copy=False))
        return float(value)


class CrossEntropy(_Loss):
    """Softmax cross-entropy on logits with integer class labels, averaged over the batch.

    ``loss(logits, labels)`` returns a Python float; ``loss.backward()`` returns
    d value / d logits, shape (N, K). ``logits`` is a floating (N, K) array, ``labels``
    an integer (N,) array of the same backend with values in [0, K). Stable for any
    finite logit (the row maximum is subtracted before the log-sum-exp); NaN or infinite
    logits raise ``NonFiniteError``.
    """

    _backward = F.softmax_cross_entropy_backward

    def __call__(self, logits, labels):
        xp = backend.xp
        check_floating("CrossEntropy", "logits", logits, "(N, K)")
        if logits.ndim != 2:
            raise ShapeError(f"CrossEntropy: logits must be a non-empty 2-d array (N, K), "
                             f"got shape {tuple(logits.shape)}")
        check_finite("CrossEntropy", "logits", logits)
        if not isinstance(labels, xp.ndarray) or labels.dtype.kind not in "iu":
            raise DTypeError(f"CrossEntropy: labels must be an integer {backend.name} array "
                             f"(N,) of class indices, got {type(labels).__name__} "
                             f"{getattr(labels, 'dtype', '')}".rstrip())
        n, k = logits.shape
        if tuple(labels.shape) != (n,):
            raise ShapeError(f"CrossEntropy: labels shape {tuple(labels.shape)} does not match "
                             f"logits shape {tuple(logits.shape)}; expected ({n},)")
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= k:
            raise ConfigError(f"CrossEntropy: labels must lie in [0, {k}) for {k} classes, "
                              f"got values in [{low}, {high}]")
        value, self._cache = F.softmax_cross_entropy_forward(logits, labels)
        return float(value)
