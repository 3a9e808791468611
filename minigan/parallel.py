"""Running one big array operation as a few chunks on a few CPU threads (NumPy only).

Why this exists: NumPy runs its copies, additions and elementwise functions on one
core, while OpenBLAS runs its GEMMs on all of them. In a DCGAN step on 2 cores about a
third of the time was such memory work, with the second core idle. Python threads can
run NumPy work side by side (NumPy releases the GIL in its loops), but not next to a
multi-threaded OpenBLAS: after each call its idle workers keep spinning on the other
cores for a while and steal them. So inside a parallel region the BLAS is switched to
one thread, and minigan runs the chunks itself, one thread per core: each chunk does
its own im2col, GEMM and slice-adds, so every pass uses every core.

    parallel.chunks(n, part)    # part(start, stop) for a few contiguous pieces of range(n)

Who splits: the convolutions and transposed convolutions (blocks of samples), their
weight gradients (blocks of rows), eval-mode BatchNorm and Adam (blocks of rows).
``Trainer.step`` and ``Trainer.sample`` each run as one region.

Results are reproducible: for a given thread count a run gives the same bits every
time (the pieces are fixed by the sizes and the count, and the BLAS runs one thread
per piece). Across thread counts they agree to float rounding, not always to the bit:
every split is along an axis whose entries are computed independently -- the samples
of a batch, the rows of a weight gradient, the rows of an elementwise map -- but a
piece's GEMM may be done by a different BLAS kernel (a vector kernel for a product with
one column, say), which rounds differently. Elementwise maps give identical bits on any
count (``tests/test_parallel.py`` checks both).

How many threads: ``set_threads(n)``, else the environment variable
``MINIGAN_NUM_THREADS``, else as many as the BLAS uses now (so ``threadpoolctl``'s
limits and ``OPENBLAS_NUM_THREADS`` apply to minigan too). Only the NumPy backend
splits; under CuPy (or any other backend) ``chunks`` is one plain call. Where the BLAS
cannot be switched to one thread (a BLAS other than OpenBLAS), the default is one
thread: chunks on top of a multi-threaded BLAS would fight it for the cores.
"""

import contextlib
import ctypes
import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from . import backend
from .errors import ConfigError

_lock = threading.Lock()
_state = threading.local()       # .inside: this thread is running a chunk (no nesting)
_requested = None                # set_threads(n)
_region_threads = None           # the thread count held by an open region()
_pool = None
_pool_key = None                 # (workers, process id): a forked child makes its own pool


# ---------------------------------------------------------------------------- the BLAS

# (get, set) symbol pairs of OpenBLAS builds: NumPy's wheels ship "scipy_openblas64_",
# distributions the plain names (64-bit-integer builds add the suffix 64_)
_OPENBLAS_SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)
_blas = None


def _loaded_libraries():
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


def _find_blas():
    """(get_num_threads, set_num_threads) of the OpenBLAS NumPy uses, or None."""
    for path in _loaded_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for get_name, set_name in _OPENBLAS_SYMBOLS:
            if hasattr(lib, get_name) and hasattr(lib, set_name):
                get, set_ = getattr(lib, get_name), getattr(lib, set_name)
                get.restype, get.argtypes = ctypes.c_int, []
                set_.restype, set_.argtypes = None, [ctypes.c_int]
                return get, set_
    return None


def _blas_functions():
    global _blas
    if _blas is None:
        _blas = _find_blas() or False
    return _blas or None


def blas_threads():
    """The number of threads the BLAS uses now, or None when it cannot be read."""
    functions = _blas_functions()
    return None if functions is None else max(1, int(functions[0]()))


def _set_blas_threads(n):
    functions = _blas_functions()
    if functions is not None:
        functions[1](int(n))


# ---------------------------------------------------------------------------- how many

def set_threads(n):
    """Use ``n`` threads for minigan's chunked loops (None: back to the default, see the
    module docstring). Returns the previous setting."""
    global _requested
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(f"parallel.set_threads: n must be a positive int or None, got {n!r}")
    previous, _requested = _requested, n
    return previous


def threads():
    """How many threads ``chunks`` uses right now (1: plain calls)."""
    if backend.name != "numpy" or getattr(_state, "inside", False):
        return 1
    if _region_threads is not None:  # fixed when the region was entered
        return _region_threads
    if _requested is not None:
        return _requested
    from_env = os.environ.get("MINIGAN_NUM_THREADS")
    if from_env:
        n = int(from_env) if from_env.strip().isdigit() else 0
        if n < 1:
            raise ConfigError(f"MINIGAN_NUM_THREADS must be a positive int, got {from_env!r}")
        return n
    return blas_threads() or 1


# ---------------------------------------------------------------------------- running

@contextlib.contextmanager
def region():
    """Hand the cores to minigan's chunks for a whole block of work (a training step).

    The BLAS runs single-threaded inside, whatever the thread count (so a piece's GEMM
    rounds the same way on every run), and the thread count is fixed at entry, so the
    BLAS's workers are not woken between the step's many operations (each wake-up
    leaves them spinning). Nested regions, regions inside a chunk, and regions on the non-NumPy
    backends change nothing.
    """
    global _region_threads
    with _lock:
        enter = (_region_threads is None and backend.name == "numpy"
                 and not getattr(_state, "inside", False))
        if enter:
            _region_threads = threads()
    if not enter:
        yield
        return
    before = blas_threads()
    if before is not None and before > 1:
        _set_blas_threads(1)
    try:
        yield
    finally:
        if before is not None and before > 1:
            _set_blas_threads(before)
        _region_threads = None


def _executor(workers):
    """A pool of at least ``workers`` threads (the calling thread runs one more piece).

    A pool only grows; one made before a fork is useless in the child (its threads did
    not survive the fork), so a child makes its own."""
    global _pool, _pool_key
    with _lock:
        if _pool_key is None or _pool_key[1] != os.getpid() or _pool_key[0] < workers:
            if _pool is not None and _pool_key[1] == os.getpid():
                _pool.shutdown(wait=True)
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minigan")
            _pool_key = (workers, os.getpid())
        return _pool


def _run_inside(part, start, stop):
    _state.inside = True
    try:
        part(start, stop)
    finally:
        _state.inside = False


def chunks(n, part, min_size=1):
    """Call ``part(start, stop)`` for contiguous pieces covering range(n), in parallel.

    One piece per thread (``threads()``), each at least ``min_size`` long; with one
    thread this is exactly ``part(0, n)``. The pieces must write disjoint outputs.
    Runs in a ``region`` (one is opened if none is). An exception in any piece is
    raised here, after every piece has finished.
    """
    if _region_threads is None:
        with region():
            _split(n, part, min_size)
    else:
        _split(n, part, min_size)


def _split(n, part, min_size):
    count = min(threads(), n // max(1, min_size))
    if count <= 1:
        part(0, n)
        return
    bounds = [n * i // count for i in range(count + 1)]
    pool = _executor(count - 1)
    futures = [pool.submit(_run_inside, part, bounds[i], bounds[i + 1])
               for i in range(1, count)]
    try:
        _run_inside(part, bounds[0], bounds[1])
    finally:
        errors = [f.exception() for f in futures]  # waits for every piece
    for error in errors:
        if error is not None:
            raise error


def over_rows(x, part, min_values=1 << 16):
    """``part(rows)`` for slices ``rows`` of x's first axis that together cover it, in
    parallel (``chunks``), each piece at least ``min_values`` values (smaller arrays
    are one call). For a 0-d x, ``part(...)`` once (x[...] is x)."""
    if x.ndim == 0:
        part(Ellipsis)
        return
    per_row = max(1, x.size // max(1, x.shape[0]))
    chunks(x.shape[0], lambda start, stop: part(slice(start, stop)),
           min_size=-(-min_values // per_row))
