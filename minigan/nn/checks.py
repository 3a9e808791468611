"""Input validation shared by the layers: every message names the layer, what it
expected and what it got."""

from .. import backend
from ..errors import ConfigError, DTypeError, ShapeError


def check_array(layer, x, ndim, layout):
    """x must be a non-empty floating array of the active backend with ``ndim``
    dimensions (any number when ``ndim`` is None)."""
    xp = backend.xp
    if not isinstance(x, xp.ndarray):
        raise DTypeError(f"{layer!r}: expected a {backend.name} array {layout}, got "
                         f"{type(x).__module__}.{type(x).__name__} "
                         "(convert with minigan.backend.to_device)")
    if x.dtype.kind != "f":
        raise DTypeError(f"{layer!r}: expected a floating-point input {layout}, got dtype "
                         f"{x.dtype} (convert with x.astype('float32'))")
    if ndim is not None and x.ndim != ndim:
        raise ShapeError(f"{layer!r}: expected a {ndim}-d input {layout}, "
                         f"got shape {tuple(x.shape)}")
    if x.ndim == 0 or x.shape[0] == 0:
        raise ShapeError(f"{layer!r}: got an empty batch, shape {tuple(x.shape)}")


def check_floating(where, name, value, layout=""):
    """``value`` must be a non-empty floating array of the active backend; ``where``
    names the caller (a loss, an objective) in the message."""
    if not isinstance(value, backend.xp.ndarray) or value.dtype.kind != "f":
        got = f"{type(value).__name__} {getattr(value, 'dtype', '')}".rstrip()
        layout = f" {layout}" if layout else ""
        raise DTypeError(f"{where}: {name} must be a floating {backend.name} array{layout}, "
                         f"got {got}")
    if value.size == 0:
        raise ShapeError(f"{where}: {name} is empty, shape {tuple(value.shape)}")


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
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                   for v in values):
        raise ConfigError(f"{layer_name}: {arg_name} must be an int or a pair of ints, "
                          f"got {value!r}")
    if min(values) < minimum:
        raise ConfigError(f"{layer_name}: {arg_name} must be >= {minimum}, got {value!r}")
    return values


def positive_int(layer_name, arg_name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{layer_name}: {arg_name} must be a positive int, got {value!r}")
    return value
