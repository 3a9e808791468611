"""minigan: a minimal, autograd-free GAN library on NumPy (CPU) and CuPy (GPU).

Every layer has a handwritten forward and backward pass (``minigan.functional``),
wrapped in stateful modules (``minigan.nn``); images are NHWC.

``minigan.plots`` and ``minigan.inspect.plots`` are imported when first used: the math
(``minigan.functional``, ``minigan.nn``, ...) works where matplotlib is not installed.
"""

import importlib

from . import (
    backend,
    checkpoint,
    data,
    engine,
    functional,
    gan,
    gradcheck,
    init,
    inspect,
    losses,
    metrics,
    nn,
    optim,
    parallel,
)
from .errors import (
    BackendError,
    ConfigError,
    DTypeError,
    MiniganError,
    NonFiniteError,
    ShapeError,
    StateError,
)

__version__ = "0.1.0"

__all__ = ["BackendError", "ConfigError", "DTypeError", "MiniganError", "NonFiniteError",
           "ShapeError", "StateError", "backend", "checkpoint", "data", "engine", "functional",
           "gan", "gradcheck", "init", "inspect", "losses", "metrics", "nn", "optim", "parallel"]

_ON_FIRST_USE = ("plots",)


def __getattr__(name):
    """``minigan.plots``: imported (with matplotlib) on first use."""
    if name in _ON_FIRST_USE:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'minigan' has no attribute {name!r}")
