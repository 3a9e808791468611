"""The array backend: one array module (NumPy or CuPy) active at a time.

Every piece of math in minigan looks the module up *when it runs*::

    from minigan import backend
    xp = backend.xp          # numpy, or cupy after backend.use("cupy")

so switching the backend takes effect for everything created afterwards. Build
models after calling ``use``: parameters live on the backend that was active when
the layer was constructed.

Only the API that NumPy and CuPy share is used inside the library. Conversions
between host and device happen at the edges, explicitly, through ``to_numpy`` and
``to_device`` (data loading, checkpoints, plots, logged scalars).
"""

import numpy

from .errors import BackendError

xp = numpy
"""The active array module (``numpy`` by default)."""

name = "numpy"
"""The name of the active backend: ``"numpy"``, ``"cupy"`` (or a test backend's name)."""

_global_rng = None


def use(backend_name):
    """Switch the active array module to ``"numpy"`` or ``"cupy"``.

    Raises ``BackendError`` saying what is missing when CuPy is not installed or
    no CUDA device can be used.  Returns the active module.
    """
    if backend_name == "numpy":
        return _activate(numpy, "numpy")
    if backend_name == "cupy":
        try:
            import cupy
        except ImportError as exc:
            raise BackendError(
                "backend 'cupy' requested but CuPy is not installed "
                "(install it with `pip install minigan[gpu]`, or a cupy-cudaXXx wheel "
                f"matching your CUDA version): {exc}"
            ) from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # cupy raises CUDARuntimeError without a driver/device
            raise BackendError(
                "backend 'cupy' requested and CuPy is installed, but no usable GPU was found: "
                f"{exc}"
            ) from None
        if count < 1:
            raise BackendError("backend 'cupy' requested and CuPy is installed, but no GPU "
                               "was found")
        return _activate(cupy, "cupy")
    raise BackendError(f"unknown backend {backend_name!r}: expected 'numpy' or 'cupy'")


def _activate(module, module_name):
    """Make ``module`` the active array module (also used by the strict test backend)."""
    global xp, name, _global_rng
    xp = module
    name = module_name
    _global_rng = None
    return module


def to_numpy(a):
    """Return ``a`` as a host ``numpy.ndarray`` (a no-op for NumPy arrays and scalars)."""
    if isinstance(a, numpy.ndarray):
        return a
    if hasattr(a, "get"):  # cupy.ndarray (and the strict test backend's array)
        return a.get()
    return numpy.asarray(a)


def to_device(a):
    """Return ``a`` as an array of the active module (copies host data to the GPU under CuPy)."""
    if isinstance(a, xp.ndarray):
        return a
    return xp.asarray(to_numpy(a))


def default_rng(seed=None):
    """A new random generator of the active module, seeded with ``seed``.

    NumPy gives a PCG64 generator; CuPy its own (XORWOW), so the same seed gives
    different numbers on the two backends.
    """
    return xp.random.default_rng(seed)


def derived_seed(*key):
    """A seed in [0, 2**63) for a tuple of ints ``key``, e.g. (seed, step, stream): the hash
    of a tuple of ints is the same in every Python process, so the generator
    ``default_rng(derived_seed(*key))`` can be made again from its key (after a resume)
    without saving its state."""
    return hash(key) & (2**63 - 1)


def seed(value):
    """Seed the generator that layers use for their default initialisation."""
    global _global_rng
    _global_rng = default_rng(value)


def global_rng():
    """The generator used when a layer is built without an explicit ``rng``."""
    global _global_rng
    if _global_rng is None:
        _global_rng = default_rng()
    return _global_rng


def synchronize():
    """Wait until the device has finished the work queued so far (a no-op on NumPy): for
    timing GPU work, which CuPy runs asynchronously."""
    if name == "cupy":
        xp.cuda.Device().synchronize()


def scalar(a):
    """A Python float from a 0-d array (synchronises the GPU: use for logged numbers only)."""
    return float(to_numpy(a))
