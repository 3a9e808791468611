"""minigan: a minimal, autograd-free GAN library on NumPy (CPU) and CuPy (GPU).

Every layer has a handwritten forward and backward pass (``minigan.functional``),
wrapped in stateful modules (``minigan.nn``); images are NHWC.
"""

from . import (backend, checkpoint, data, functional, gan, gradcheck, init, inspect, losses,
               metrics, nn, optim, parallel, plots)
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
