"""How many CPU threads minigan uses, and the region that hands them the cores.

The CPU engine (``minigan/engine/``) runs each primitive in pieces on minigan's own
threads, one per core; this module is its public control panel:

    minigan.parallel.set_threads(n)    # n threads (None: the default again)
    minigan.parallel.threads()         # the count in use now
    with minigan.parallel.region():    # BLAS on one thread, the count fixed inside
        ...
    minigan.parallel.set_blas_control(False)       # leave OpenBLAS's thread count alone
    minigan.parallel.set_keep_freed_memory(False)  # leave glibc's malloc thresholds alone

The last two opt out of the CPU engine's two process-wide changes (they are on by
default; ``MINIGAN_BLAS_CONTROL=0`` and ``MINIGAN_KEEP_FREED_MEMORY=0`` do the same).

The machinery lives in ``minigan/engine/threads.py`` (pieces and regions) and
``minigan/engine/blas.py`` (OpenBLAS's thread count); see their docstrings.
"""

from .engine.blas import get_threads as blas_threads
from .engine.memory import set_keep_freed_memory
from .engine.threads import region, set_blas_control, set_threads, split, threads


def chunks(n, part, min_size=1):
    """``part(start, stop)`` on contiguous pieces of range(n), one per thread, each at
    least ``min_size`` long (``minigan.engine.threads.split``)."""
    split(n, part, min_size)


def over_rows(x, part, min_values=1 << 16):
    """``part(rows)`` for slices ``rows`` of x's first axis that together cover it, in
    parallel, each piece at least ``min_values`` values (``part(...)`` for a 0-d x)."""
    if x.ndim == 0:
        part(Ellipsis)
        return
    per_row = max(1, x.size // max(1, x.shape[0]))
    split(x.shape[0], lambda start, stop: part(slice(start, stop)),
          min_size=-(-min_values // per_row))


__all__ = ["blas_threads", "chunks", "over_rows", "region", "set_blas_control",
           "set_keep_freed_memory", "set_threads", "threads"]
