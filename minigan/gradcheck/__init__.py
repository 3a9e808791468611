"""Finite-difference gradient checking, as a library feature.

Two tools, both in float64:

- ``numerical_gradient(f, x)``: the gradient of a scalar function by central
  differences, one element at a time (2 evaluations per element): for teaching,
  on small inputs, to print next to the analytic gradient.
- ``check_module(module, x)``: checks a module's backward (input gradient and every
  parameter gradient) against finite differences. The scalar under test is
  L = sum(module(x) * gy) with a *random* upstream gradient gy (an all-ones gy
  would hide errors: e.g. the sum of BatchNorm outputs does not depend on x).
  ``mode="elementwise"`` compares every element; ``mode="directional"`` compares
  the directional derivative along a few random directions over all inputs and
  parameters at once: (L(theta + eps d) - L(theta - eps d)) / (2 eps) against
  <grad L, d>, which costs 2 forwards per direction whatever the size.

Round-off: L is a sum of float64 products, so each evaluation carries an error of
about 2^-52 * sum |y * gy|, and a central difference divides that by eps. Differences
below this floor (``roundoff_floor``) cannot be measured: ``GradientError.within``
does not count them against the tolerance; everything above it is. This matters only
where a true gradient is itself that small (e.g. BatchNorm's input gradient when gy
nearly lies in the span of 1 and xhat).

The module's state (parameters, running statistics, gradients) is the same after
the check as before it.
"""

import itertools
from dataclasses import dataclass

from .. import backend
from ..errors import ConfigError, DTypeError


@dataclass
class GradientError:
    """How far an analytic gradient is from the finite-difference one."""

    name: str               # "input", a parameter's dotted name, or "directional[k]"
    max_abs_error: float    # max |analytic - numeric|
    max_rel_error: float    # max_abs_error / scale
    scale: float            # max |numeric| (per direction: the larger derivative)
    roundoff_floor: float   # the smallest difference a central difference can measure

    def within(self, tolerance):
        """True when the error above the round-off floor is at most tolerance * scale."""
        return max(self.max_abs_error - self.roundoff_floor, 0.0) <= tolerance * self.scale


def relative_error(analytic, numeric):
    """max |analytic - numeric| / max |numeric|, a scale-aware error (arrays of any shape)."""
    xp = backend.xp
    scale = max(float(xp.abs(numeric).max()), 1e-30)
    return float(xp.abs(analytic - numeric).max()) / scale


def numerical_gradient(f, x, eps=1e-6):
    """d f / d x by central differences, element by element.

    f: a function of no arguments returning a float that reads x; x: a float64 array
    that is perturbed in place and restored. Returns an array shaped like x.
    """
    _require_float64(x, "numerical_gradient")
    xp = backend.xp
    grad = xp.zeros_like(x)
    for index in itertools.product(*(range(n) for n in x.shape)):
        original = float(x[index])
        x[index] = original + eps
        plus = f()
        x[index] = original - eps
        minus = f()
        x[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def check_module(module, x, mode="elementwise", eps=1e-6, directions=3, seed=0):
    """Compare ``module``'s backward with finite differences at input ``x`` (float64).

    Returns a list of ``GradientError``. ``module`` keeps its mode (train/eval).
    """
    _require_float64(x, "check_module")
    for name, p in module.named_parameters():
        _require_float64(p.data, f"check_module (parameter {name})")
    xp = backend.xp
    rng = backend.default_rng(seed)
    saved_state = module.state_dict()
    saved_buffers = [b.copy() for _, b in module.named_buffers()]
    saved_grads = [p.grad.copy() for p in module.parameters()]

    def restore_buffers():  # e.g. BatchNorm's running statistics move on every forward
        for (_, buffer), saved in zip(module.named_buffers(), saved_buffers):
            xp.copyto(buffer, saved)

    y = module(x)
    gy = rng.standard_normal(y.shape)
    floor = roundoff_floor(y, gy, eps)

    def loss():
        restore_buffers()
        return float((module(x) * gy).sum())

    restore_buffers()
    module.zero_grad()
    module(x)
    grads = {"input": module.backward(gy)}
    grads.update({name: p.grad.copy() for name, p in module.named_parameters()})
    values = {"input": x}
    values.update({name: p.data for name, p in module.named_parameters()})

    if mode == "elementwise":
        results = []
        for name, array in values.items():
            numeric = numerical_gradient(loss, array, eps)
            error = float(xp.abs(grads[name] - numeric).max())
            scale = max(float(xp.abs(numeric).max()), 1e-30)
            results.append(GradientError(name, error, error / scale, scale, floor))
    elif mode == "directional":
        results = [_directional(k, values, grads, loss, rng, eps, floor)
                   for k in range(directions)]
    else:
        raise ConfigError("check_module: mode must be 'elementwise' or 'directional', "
                          f"got {mode!r}")

    module.load_state_dict(saved_state)
    for p, g in zip(module.parameters(), saved_grads):
        xp.copyto(p.grad, g)
    return results


def roundoff_floor(y, gy, eps):
    """The round-off level of a central difference of L = sum(y * gy): 8 ulp of the
    summed magnitudes, divided by eps (the factor 8 covers the 2 evaluations and the
    rounding of the products and of the sum)."""
    return 8 * 2.0**-52 * float(backend.xp.abs(y * gy).sum()) / eps


def _directional(k, values, grads, loss, rng, eps, floor):
    directions = {name: rng.standard_normal(a.shape) for name, a in values.items()}
    predicted = sum(float((grads[name] * d).sum()) for name, d in directions.items())
    originals = {name: a.copy() for name, a in values.items()}

    def shifted(sign):
        for name, a in values.items():
            backend.xp.copyto(a, originals[name] + sign * eps * directions[name])
        return loss()

    measured = (shifted(+1) - shifted(-1)) / (2 * eps)
    for name, a in values.items():
        backend.xp.copyto(a, originals[name])
    error = abs(predicted - measured)
    scale = max(abs(measured), abs(predicted), 1e-30)
    return GradientError(f"directional[{k}]", error, error / scale, scale, floor)


def _require_float64(a, where):
    if a.dtype != backend.xp.float64:
        raise DTypeError(f"{where}: finite differences need float64 arrays, got {a.dtype}")
