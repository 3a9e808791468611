"""minigan's own CPU threads: one piece of a big array operation per core.

Why: NumPy runs its copies, additions and elementwise functions on one core, while a
GEMM runs on all of them. Python threads can run NumPy work side by side (NumPy
releases the GIL in its loops), but not next to a multi-threaded OpenBLAS, whose idle
workers keep spinning after each call (``blas.py``). So inside a *region* the BLAS is
switched to one thread, and the CPU engine splits each primitive into a few pieces that
it runs itself, one thread per core, GEMMs included.

    with region():                      # Trainer.step and Trainer.sample open one
        split(n, part)                  # part(start, stop) for a few pieces of range(n)

How many threads: ``set_threads(n)``, else the environment variable
``MINIGAN_NUM_THREADS``, else as many as the BLAS uses now (so ``threadpoolctl``'s
limits and ``OPENBLAS_NUM_THREADS`` apply to minigan too); 1 where the BLAS cannot be
switched to one thread (pieces on top of a multi-threaded BLAS would fight it for the
cores) and on every backend but NumPy.

OpenBLAS's thread count is one number for the whole process. A region sets it to 1 on
entry and puts the previous count back on exit, so the change lasts only as long as
minigan's work -- but while a region runs, a GEMM started on any other thread of the
process runs on one thread too. A caller who shares the process with other BLAS work
opts out with ``MINIGAN_BLAS_CONTROL=0`` or ``set_blas_control(False)``
(``minigan.parallel.set_blas_control``): minigan then leaves OpenBLAS alone and, unless
``set_threads`` says otherwise, runs on one thread of its own.

Results are reproducible: for a given thread count a run gives the same bits every
time (the pieces are fixed by the sizes and the count). Across thread counts they agree
to float rounding: a piece's GEMM may be done by another BLAS kernel, and a sum split
in pieces adds in another order.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from .. import backend
from ..errors import ConfigError
from . import blas
from .memory import keep_freed_memory
from .switch import Switch

_lock = threading.Lock()
_state = threading.local()       # .inside: this thread is running a piece (no nesting)
_requested = None                # set_threads(n)
_region_threads = None           # the thread count held by an open region()
_pool = None
_pool_key = None                 # (workers, process id): a forked child makes its own pool
_blas_control = Switch("MINIGAN_BLAS_CONTROL", "parallel.set_blas_control",
                       on="switch OpenBLAS to one thread inside a step", off="leave it alone")


def set_blas_control(enabled):
    """Allow (True, the default) or forbid (False) regions to switch OpenBLAS to one thread
    for their duration; None: back to ``MINIGAN_BLAS_CONTROL`` ("1" or "0"). Returns the
    previous setting. Forbidden, OpenBLAS is left alone and minigan runs on one thread of
    its own unless ``set_threads`` says otherwise (pieces on top of a multi-threaded BLAS
    would fight it for the cores)."""
    return _blas_control.set(enabled)


def blas_control():
    """Whether a region switches OpenBLAS to one thread (see ``set_blas_control``)."""
    return _blas_control.enabled()


def set_threads(n):
    """Use ``n`` threads for the CPU engine's pieces (None: back to the default, see the
    module docstring). Returns the previous setting."""
    global _requested
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(f"parallel.set_threads: n must be a positive int or None, got {n!r}")
    previous, _requested = _requested, n
    return previous


def threads():
    """How many threads ``split`` uses right now (1: plain calls)."""
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
    return (blas.get_threads() or 1) if blas_control() else 1


@contextlib.contextmanager
def region():
    """Hand the cores to minigan's pieces for a whole block of work (a training step).

    The BLAS runs on one thread inside, whatever the thread count (so a piece's GEMM
    rounds the same way on every run), and the thread count is fixed at entry, so the
    BLAS's workers are not woken between the step's many operations; and freed memory
    is kept for reuse (``memory.py``: the step's large arrays do not page-fault again).
    Nested regions, regions inside a piece, and regions on the other backends change
    nothing.
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
    keep_freed_memory()    # process-wide and lasting (memory.py), unless opted out
    before = blas.get_threads() if blas_control() else None
    if before is not None and before > 1:
        blas.set_threads(1)   # process-wide until the region ends (module docstring)
    try:
        yield
    finally:
        if before is not None and before > 1:
            blas.set_threads(before)
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


def split(n, part, min_size=1):
    """Call ``part(start, stop)`` for contiguous pieces covering range(n), in parallel.

    One piece per thread (``threads()``), each at least ``min_size`` long; with one
    thread this is exactly ``part(0, n)``. The pieces must write disjoint outputs.
    Runs in a ``region`` (one is opened if none is). An exception in any piece is
    raised here, after every piece has finished.
    """
    if _region_threads is None and backend.name == "numpy":
        with region():
            _split(n, part, min_size)
    else:
        _split(n, part, min_size)


def pieces(n, min_size=1):
    """The piece boundaries ``split`` uses for range(n): [0, ..., n]."""
    count = max(1, min(threads(), n // max(1, min_size)))
    return [n * i // count for i in range(count + 1)]


def _split(n, part, min_size):
    bounds = pieces(n, min_size)
    count = len(bounds) - 1
    if count <= 1:
        part(0, n)
        return
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
