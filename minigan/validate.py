"""Input validation shared by the layers, losses, optimizers and the trainer: every
message names the layer or function, what it expected and what it got."""

import math
import numbers

from . import backend
from .errors import ConfigError, DTypeError, NonFiniteError, ShapeError

SUPPORTED_FLOATS = ("float32", "float64")
"""The dtypes minigan computes in (float16 is refused: too coarse for the handwritten
backward passes and for BatchNorm's variance)."""


def dtype_problem(dtype):
    """Why ``dtype`` cannot flow through minigan (the end of a message), or None."""
    if dtype.name in SUPPORTED_FLOATS:
        return None
    if dtype.name == "uint8":
        hint = "uint8 pixels: use minigan.data.to_unit_range, or x.astype('float32')"
    elif dtype.kind in "fiub":
        hint = "convert with x.astype('float32')"
    else:
        hint = "convert to a float32 or float64 array first"
    unsupported = ", which minigan does not support" if dtype.kind == "f" else ""
    return f"got dtype {dtype}{unsupported} ({hint})"


def check_array(layer, x, ndim, layout):
    """x must be a non-empty float32/float64 array of the active backend with ``ndim``
    dimensions (any number when ``ndim`` is None). Finiteness is checked by
    ``Module.__call__`` (once per user-level call), not here."""
    xp = backend.xp
    if not isinstance(x, xp.ndarray):
        raise DTypeError(f"{layer!r}: expected a {backend.name} array {layout}, got "
                         f"{type(x).__module__}.{type(x).__name__} "
                         "(convert with minigan.backend.to_device)")
    problem = dtype_problem(x.dtype)
    if problem:
        raise DTypeError(f"{layer!r}: expected a floating-point input (float32 or float64) "
                         f"{layout}, {problem}")
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(f"{layer!r}: expected a {ndim}-d input {layout}, "
                         f"got shape {tuple(x.shape)}")
    if x.ndim == 0 or x.shape[0] == 0:
        raise ShapeError(f"{layer!r}: got an empty batch, shape {tuple(x.shape)}; expected at "
                         "least one sample")


def check_floating(where, name, value, layout=""):
    """``value`` must be a non-empty float32/float64 array of the active backend;
    ``where`` names the caller (a loss, an objective) in the message."""
    layout = f" {layout}" if layout else ""
    if not isinstance(value, backend.xp.ndarray) or value.dtype.kind != "f":
        got = f"{type(value).__name__} {getattr(value, 'dtype', '')}".rstrip()
        raise DTypeError(f"{where}: {name} must be a floating {backend.name} array{layout} "
                         f"(float32 or float64), got {got}")
    problem = dtype_problem(value.dtype)
    if problem:
        raise DTypeError(f"{where}: {name} must be float32 or float64{layout}, {problem}")
    if value.size == 0:
        raise ShapeError(f"{where}: {name} is empty, shape {tuple(value.shape)}; expected at "
                         "least one element")


def all_finite(x):
    """True when the floating array ``x`` holds no NaN and no infinity: one pass over x
    and one host sync (``bool``)."""
    return bool(backend.xp.isfinite(x).all())


def non_finite_error(where, name, x, expected="finite numbers"):
    """The NonFiniteError for an ``x`` that failed ``all_finite``, with the counts."""
    xp = backend.xp
    nans, infinities = int(xp.isnan(x).sum()), int(xp.isinf(x).sum())
    return NonFiniteError(f"{where}: found {nans} NaN and {infinities} infinite values in "
                          f"{name} (shape {tuple(x.shape)}); expected {expected}")


def check_finite(where, name, x, expected="finite numbers"):
    """No NaN or infinity in the floating array ``x`` (see ``all_finite``)."""
    if not all_finite(x):
        raise non_finite_error(where, name, x, expected)


def float_dtype(where, dtype):
    """The parameter dtype a constructor was given (None: float32), checked."""
    xp = backend.xp
    try:
        resolved = xp.dtype("float32" if dtype is None else dtype)
    except TypeError:
        raise DTypeError(f"{where}: dtype must be float32 or float64, got {dtype!r}") from None
    if resolved.name not in SUPPORTED_FLOATS:
        raise DTypeError(f"{where}: dtype must be float32 or float64, got {resolved.name}")
    return resolved


def check_features(layer, x, expected, layout):
    """The last axis of x must hold ``expected`` features/channels."""
    if x.shape[-1] != expected:
        raise ShapeError(f"{layer!r}: expected {expected} channels/features in the last axis "
                         f"{layout}, got shape {tuple(x.shape)}")


def check_dtype_matches(layer, x, weight):
    if x.dtype != weight.dtype:
        raise DTypeError(f"{layer!r}: input dtype {x.dtype} does not match the layer's "
                         f"parameter dtype {weight.dtype} (convert the input with "
                         f".astype('{weight.dtype}'))")


def pair(layer_name, arg_name, value, minimum):
    """Normalise an int or (h, w) pair argument and check each entry is an int >= minimum."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2 or not all(is_int(v) for v in values):
        raise ConfigError(f"{layer_name}: {arg_name} must be an int or a pair of ints, "
                          f"got {value!r}")
    if min(values) < minimum:
        raise ConfigError(f"{layer_name}: {arg_name} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in values)


def is_int(value):
    """An int (NumPy integers included), but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(layer_name, arg_name, value):
    if not is_int(value) or value < 1:
        raise ConfigError(f"{layer_name}: {arg_name} must be a positive int, got {value!r}")
    return int(value)


def true_or_false(where, name, value):
    """A bool: True or False, nothing else (not 0 or 1, not None)."""
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {name} must be True or False, got {value!r}")
    return value


def class_count(where, value):
    """A number of classes (num_classes): an int >= 2, as an int."""
    if not is_int(value) or value < 2:
        raise ConfigError(f"{where}: num_classes must be an int >= 2, got {value!r}")
    return int(value)


def finite_number(where, name, value, minimum=None, maximum=None, above=None, below=None,
                  expected=None):
    """A real, finite Python number (not a bool) within the given bounds, as a float.

    ``minimum`` / ``maximum`` are inclusive bounds, ``above`` / ``below`` exclusive.
    ``expected`` (e.g. "a positive finite number"), when given, is what every refusal
    says the value must be."""
    if expected is not None:
        try:
            return finite_number(where, name, value, minimum, maximum, above, below)
        except ConfigError:
            raise ConfigError(f"{where}: {name} must be {expected}, got {value!r}") from None
    if (not isinstance(value, numbers.Real) or isinstance(value, bool)
            or not math.isfinite(value)):
        raise ConfigError(f"{where}: {name} must be a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: {name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{where}: {name} must be <= {maximum}, got {value!r}")
    if above is not None and value <= above:
        raise ConfigError(f"{where}: {name} must be > {above}, got {value!r}")
    if below is not None and value >= below:
        raise ConfigError(f"{where}: {name} must be < {below}, got {value!r}")
    return float(value)
