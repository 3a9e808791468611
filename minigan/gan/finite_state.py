"""Keeping a training state finite: the checks around each optimizer update and before a
checkpoint is written.

A loss or gradient that is NaN or infinite is caught before the update (``require_finite``,
below). Two overflows are not: both start from finite numbers.

* **The second moment.** Adam and RMSprop square the gradient in the parameters' dtype:
  v <- b2 v + (1 - b2) g^2. In float32, g^2 is infinite once |g| > sqrt(3.4e38) ~ 1.8e19,
  and v stays infinite from then on. ``check_gradient`` refuses the update *before* it
  is made when the gradient's Euclidean norm (already computed, in float64, for the
  metrics) is above ``gradient_limit(dtype)`` = sqrt(largest float) / 2: every entry is
  at most the norm, so no square overflows, and v -- a running mean of those squares --
  stays below a quarter of the largest float. This costs nothing.
* **The weights.** p <- p - lr * m_hat / (sqrt(v_hat) + eps) can overflow with finite
  numbers when the learning rate is huge. ``check_weights`` sums each parameter in float64
  after the update (one read of the weights, one host sync per network): the sum of finite
  float32s cannot overflow float64, so it is non-finite exactly when an entry is. This
  overflow cannot be undone (the old weights are gone), so the error says the trainer is
  no longer usable and the checkpoints already saved are the state to go back to.

``nonfinite_entries`` is what ``minigan train`` asks before a checkpoint replaces
``last.npz``: a checkpoint that ``--resume`` would refuse is never written.
"""

import math

import numpy

from .. import backend
from ..errors import NonFiniteError

ADVICE = ("lower the learning rate, check the data for NaN/Inf, or resume from the last "
          "checkpoint")


def gradient_limit(dtype):
    """The largest gradient norm whose entries' squares stay finite (and a running mean of
    them below a quarter of the largest value) in ``dtype``."""
    return math.sqrt(float(numpy.finfo(dtype).max)) / 2


def check_gradient(step, network, grad_norm, parameters):
    """Refuse (``NonFiniteError``, before any update) a gradient whose square would overflow
    the optimizer's second moment in the parameters' dtype."""
    dtype = parameters[0].data.dtype
    limit = gradient_limit(dtype)
    if grad_norm > limit:
        raise NonFiniteError(
            f"step {step}: the {network}'s gradient_norm = {grad_norm:.3g} is above "
            f"{limit:.3g}, where its square overflows {dtype} in the optimizer's second "
            f"moment; the update was not applied ({ADVICE})")


def check_weights(step, network, parameters):
    """After an update: every weight finite, or ``NonFiniteError`` naming how many are not.
    One float64 sum per parameter (exact: see the module docstring), one host sync."""
    xp = backend.xp
    total = sum(xp.sum(p.data, dtype=xp.float64) for p in parameters)
    if math.isfinite(float(total)):
        return
    bad = sum(int(p.data.size - xp.isfinite(p.data).sum()) for p in parameters)
    size = sum(p.data.size for p in parameters)
    raise NonFiniteError(
        f"step {step}: the {network}'s update overflowed its weights ({bad} of {size} values "
        f"are no longer finite: the learning rate is far too high); this trainer cannot go "
        f"on, the checkpoints saved before are intact ({ADVICE})")


def nonfinite_entries(arrays):
    """[(name, count of non-finite values, size)] for the floating arrays of ``arrays``
    ({name: array or number}) that hold a NaN or an infinity."""
    bad = []
    for name, value in arrays.items():
        value = backend.to_numpy(value) if hasattr(value, "dtype") else numpy.asarray(value)
        if value.dtype.kind not in "fc":
            continue
        finite = numpy.isfinite(value)
        if not finite.all():
            bad.append((name, int(value.size - finite.sum()), int(value.size)))
    return bad


def check_checkpoint(arrays, step):
    """Refuse to write a checkpoint holding non-finite values (which a resume, ``sample``
    and ``evaluate`` would refuse): ``NonFiniteError`` naming the first entries."""
    bad = nonfinite_entries(arrays)
    if bad:
        shown = ", ".join(f"'{name}' ({count} of {size})" for name, count, size in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise NonFiniteError(
            f"step {step}: the training state holds NaN or infinite values ({shown}{more}); "
            f"no checkpoint was written, so the last one saved is intact ({ADVICE})")


def require_finite(step, network, **values):
    """Stop with a clear error, before the optimizer step, on a NaN or infinite value."""
    bad = {name: value for name, value in values.items() if not math.isfinite(value)}
    if bad:
        found = ", ".join(f"{name} = {value}" for name, value in bad.items())
        raise NonFiniteError(f"step {step}: the {network}'s {found}; the update was not "
                             "applied (lower the learning rate, check the data for NaN/Inf, "
                             "or resume from the last checkpoint)")


def grad_norm(parameters):
    """The Euclidean norm of all gradients together (one host sync). Squares are summed
    in float64: a finite float32 gradient above ~1.8e19 would overflow its own square."""
    xp = backend.xp
    total = sum(xp.square(p.grad, dtype=xp.float64).sum() for p in parameters)
    return math.sqrt(float(total))
