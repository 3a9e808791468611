"""Comparing a student's arrays with the reference's, and saying what is wrong in words.

Every check raises ``Wrong`` (one line a student can act on) or returns. The order is
the order of the questions a student would ask: is it an array at all, of the right
shape, of the right dtype, finite, and then is it right -- or is it the right answer
with the wrong sign, the right answer times a constant (a missing 1/N), or wrong at
some elements (the largest difference named by index). An exercise adds its own
diagnoses (a missing term of BatchNorm, overlapping windows of col2im) before the
generic ones (``graders.py``).
"""

import numpy as np

FLOAT64_TOLERANCE = 1e-8
"""Relative tolerance against the reference in float64: both compute the same sums in
possibly another order, which changes the result by a few ulp (~1e-15) per operation;
1e-8 leaves room for that and for the cancellations in BatchNorm's gradient, and is far
below any real mistake (those are O(1) relative)."""

FLOAT32_TOLERANCE = 1e-4
"""The same in float32 (ulp 6e-8): only used for the dtype-preserving case."""


class Wrong(Exception):
    """The student's answer is wrong; the message says how."""


def tolerance(dtype):
    return FLOAT64_TOLERANCE if np.dtype(dtype) == np.float64 else FLOAT32_TOLERANCE


def scale(expected):
    return max(float(np.abs(expected).max()) if expected.size else 0.0, 1e-12)


def relative_error(got, expected):
    if expected.size == 0:
        return 0.0
    return float(np.abs(np.asarray(got, dtype=np.float64) - expected).max()) / scale(expected)


def close(got, expected, dtype=np.float64):
    return relative_error(got, expected) <= tolerance(dtype)


def unpack(result, names, function):
    """The tuple a function returns, checked to have one entry per name in ``names``."""
    count = len(names)
    if count == 1:
        return (result,)
    if not isinstance(result, (tuple, list)):
        raise Wrong(f"{function} must return a tuple ({', '.join(names)}), got "
                    f"{_describe(result)}")
    if len(result) != count:
        raise Wrong(f"{function} must return {count} values ({', '.join(names)}), got "
                    f"{len(result)}")
    return tuple(result)


def check_none(name, got, why):
    if got is not None:
        raise Wrong(f"{name} should be None {why}, got {_describe(got)}")


def check_array(name, got, expected, shape_note="", dtype=np.float64, hints=()):
    """got == expected (a float array) to the dtype's tolerance, or Wrong with the reason.

    shape_note: what the shape is, e.g. "x's shape (N, IN)"; hints: functions
    (got, expected) -> a message or None, tried before the generic diagnoses.
    """
    if got is None:
        raise Wrong(f"{name} is None; expected an array of shape {expected.shape}"
                    f"{_paren(shape_note)}")
    if not isinstance(got, np.ndarray) or got.dtype.kind not in "fiub":
        if np.isscalar(got) and expected.ndim == 0:
            got = np.asarray(got)
        else:
            raise Wrong(f"{name} is {_describe(got)}; expected a NumPy float array of shape "
                        f"{expected.shape}")
    if got.shape != expected.shape:
        message = f"{name} has shape {got.shape}, expected {expected.shape}{_paren(shape_note)}"
        if got.ndim == 2 and got.shape == expected.shape[::-1]:
            message += ": transposed? (check which side of the product each factor goes)"
        elif got.size == expected.size:
            message += ": the right number of values in the wrong shape"
        elif got.ndim < expected.ndim:
            message += ": summed over an axis too many?"
        elif got.ndim > expected.ndim or got.size > expected.size:
            message += ": a sum over the batch (or the image) is missing?"
        raise Wrong(message)
    if got.dtype != np.dtype(dtype) and expected.ndim > 0:
        raise Wrong(f"{name} is {got.dtype}, but the inputs were {np.dtype(dtype)}: do not "
                    "change the dtype (no astype, no np.zeros(shape) without dtype=...; use "
                    "zeros_like or dtype=x.dtype)")
    if not np.all(np.isfinite(got)):
        raise Wrong(f"{name} contains NaN or infinite values")
    if close(got, expected, dtype):
        return
    for hint in hints:
        message = hint(got, expected)
        if message:
            raise Wrong(f"{name}: {message}")
    raise Wrong(f"{name}: {generic(got, expected, dtype)}")


def generic(got, expected, dtype=np.float64):
    """Wrong sign, a constant factor, or the largest difference and where it is."""
    got64 = np.asarray(got, dtype=np.float64)
    if close(-got64, expected, dtype):
        return "wrong sign: yours is exactly minus the right gradient"
    if got64.ndim == 2 and got64.shape[0] == got64.shape[1] and close(got64.T, expected, dtype):
        return "transposed: yours is the transpose of the right one (check which side of " \
            "the product each factor goes)"
    norm = float((expected * expected).sum())
    if norm > 0:
        factor = float((got64 * expected).sum()) / norm
        if factor and abs(factor - 1) > 1e-6 and close(got64 / factor, expected, dtype):
            return (f"the right direction but {factor:.6g} times too large" if factor > 0
                    else f"wrong sign and {-factor:.6g} times too large") + \
                " (a factor such as 1/N or 2 is missing or extra)"
    index = np.unravel_index(int(np.argmax(np.abs(got64 - expected))), expected.shape)
    where = f"at index {tuple(int(i) for i in index)}" if expected.ndim else ""
    return (f"wrong values: off by up to {relative_error(got64, expected):.3g} relative to "
            f"the largest entry; {where}: yours {float(got64[index]):.6g}, expected "
            f"{float(expected[index]):.6g}").replace("; : ", "; ")


def check_unchanged(name, before, after, function):
    """An input the function must not modify (gy, the cache)."""
    if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
        raise Wrong(f"{function} changed {name} in place (e.g. {name} *= ... or {name}[...] "
                    f"= ...): work on a copy, {name} belongs to the caller")


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"{type(value).__name__} {value!r}"[:80]


def _paren(note):
    return f" ({note})" if note else ""
