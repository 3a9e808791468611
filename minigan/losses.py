"""Losses: a value (Python float) and its gradient w.r.t. the network's output."""

from . import backend
from . import functional as F
from .errors import ConfigError, DTypeError, ShapeError, StateError


class BCEWithLogits:
    """Binary cross-entropy on logits, averaged over all elements.

    ``loss(logits, targets)`` returns a Python float; ``loss.backward()`` returns
    d value / d logits (same shape as the logits). ``targets`` is an array of the
    logits' shape or a number (e.g. 0.9 for one-sided label smoothing); every target
    must lie in [0, 1]. Stable for any finite logit (exact at +-1e4).
    """

    def __init__(self):
        self._cache = None

    def __call__(self, logits, targets):
        xp = backend.xp
        if not isinstance(logits, xp.ndarray) or logits.dtype.kind != "f":
            raise DTypeError(f"BCEWithLogits: logits must be a floating {backend.name} array, "
                             f"got {type(logits).__name__} "
                             f"{getattr(logits, 'dtype', '')}".rstrip())
        if logits.size == 0:
            raise ShapeError(f"BCEWithLogits: got empty logits, shape {tuple(logits.shape)}")
        if isinstance(targets, (int, float)):
            targets = xp.full(logits.shape, targets, dtype=logits.dtype)
        elif not isinstance(targets, xp.ndarray):
            raise DTypeError(f"BCEWithLogits: targets must be a number or a {backend.name} "
                             f"array, got {type(targets).__name__}")
        if tuple(targets.shape) != tuple(logits.shape):
            raise ShapeError(f"BCEWithLogits: logits shape {tuple(logits.shape)} and targets "
                             f"shape {tuple(targets.shape)} differ; expected equal shapes")
        low, high = float(targets.min()), float(targets.max())
        if not (0.0 <= low and high <= 1.0):
            raise ConfigError(f"BCEWithLogits: targets must lie in [0, 1], got values in "
                              f"[{low}, {high}]")
        value, self._cache = F.bce_with_logits_forward(logits, targets.astype(logits.dtype,
                                                                              copy=False))
        return float(value)

    def backward(self, upstream=1.0):
        """d (upstream * value) / d logits for the last call."""
        if self._cache is None:
            raise StateError("BCEWithLogits.backward called before the loss was computed")
        return F.bce_with_logits_backward(self._cache, upstream)
