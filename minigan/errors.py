"""The library's own exceptions: each message names what was wrong and what was expected."""


class MiniganError(Exception):
    """Base class of every error minigan raises on purpose."""


class InputError(MiniganError):
    """Bad input -- an argument, a file or a directory given -- found before any work
    began, so nothing on disk was changed. The command line exits with status 2 on it
    (and with 1 on a failure during the work)."""


class BackendError(MiniganError, RuntimeError):
    """The requested array backend cannot be used (CuPy missing, no GPU, unknown name)."""


class ShapeError(MiniganError, ValueError):
    """An array has the wrong number of dimensions, shape or channel count."""


class DTypeError(MiniganError, TypeError):
    """An array has a dtype the layer cannot use (integer images, mismatched float widths)."""


class ConfigError(MiniganError, ValueError):
    """A constructor argument or hyperparameter is invalid (kernel 0, negative lr, ...)."""


class StateError(MiniganError, RuntimeError):
    """An operation was called out of order (backward before forward) or state does not match."""


class NonFiniteError(MiniganError, FloatingPointError):
    """Training produced a NaN or an infinity (a loss or a gradient norm)."""
