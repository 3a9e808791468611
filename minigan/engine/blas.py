"""Switching NumPy's OpenBLAS between one thread and many, from Python.

Why: after each multi-threaded call, OpenBLAS's idle workers keep spinning on the other
cores for a while, so any other work started on those cores right after a GEMM runs at
half speed (measured: a two-thread copy right after a two-thread GEMM took as long as a
one-thread copy). minigan's CPU engine therefore runs the BLAS on one thread inside a
training step and splits the work over its own threads (``threads.py``).

The switch goes through ``ctypes`` on the symbols that NumPy's OpenBLAS exports (NumPy's
wheels ship ``scipy_openblas``; distributions link the plain ``openblas``), so no extra
dependency is needed. Where none is found (another BLAS), ``available()`` is False and
the CPU engine stays on one thread of its own.
"""

import ctypes
import glob
import os

# (get, set) symbol pairs of OpenBLAS builds: NumPy's wheels ship "scipy_openblas64_",
# distributions the plain names (64-bit-integer builds add the suffix 64_)
_SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)
_functions = None  # (get, set), or False once we know there are none


def _libraries():
    """Paths of the shared libraries that look like OpenBLAS: first the ones shipped
    inside NumPy's wheel (so that another package's own copy is not picked), then any
    this process has mapped (Linux: a distribution's NumPy linked to libopenblas)."""
    import numpy
    here = os.path.dirname(numpy.__file__)
    paths = []
    for pattern in ("../numpy.libs/*openblas*", ".dylibs/*openblas*"):
        paths += sorted(glob.glob(os.path.join(here, pattern)))
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rsplit(" ", 1)[-1].strip()
                if "openblas" in os.path.basename(path).lower() and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    return paths


def _find():
    for path in _libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _SYMBOLS:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                get, set_ = getattr(lib, get_name), getattr(lib, set_name)
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                return get, set_
    return None


def _get_functions():
    global _functions
    if _functions is None:
        _functions = _find() or False
    return _functions or None


def available():
    """Whether the BLAS's thread count can be read and set."""
    return _get_functions() is not None


def get_threads():
    """The number of threads the BLAS uses now, or None when it cannot be read."""
    functions = _get_functions()
    return None if functions is None else max(1, int(functions[0]()))


def set_threads(n):
    """Make the BLAS use ``n`` threads (no-op when it cannot be controlled)."""
    functions = _get_functions()
    if functions is not None:
        functions[1](int(n))
