"""Keeping freed memory in the process, so that large arrays do not page-fault every step.

Why: a training step allocates and frees the same large arrays every time (im2col
matrices of 20 MB at batch 64, the products that col2im folds). glibc's malloc gives
such blocks back to the OS when they are freed (``munmap``, or trimming the top of the
heap), so the next step gets them again as fresh pages, each one a page fault on first
touch: measured ~4,500 faults per DCGAN step at batch 64 (~18 MB of pages zeroed and
mapped again), and none once freed memory is kept.

``keep_freed_memory()`` raises glibc's thresholds once for the process: blocks below
``THRESHOLD`` come from the heap, and up to ``THRESHOLD`` of free memory at the top of
the heap is kept for reuse instead of returned. Peak memory is unchanged (the same
arrays are alive at the peak); the process just keeps its high-water mark between
steps. The CPU engine calls it when it first opens a region (a training step or a
sampling call). Elsewhere than glibc (macOS, musl) it does nothing.

This is a setting of the whole process, not of minigan's arrays alone: every later
allocation of the process (NumPy's, other libraries') is served under the raised
thresholds, and it cannot be scoped to minigan's work -- lowering them again after each
step would hand the pages back and bring the faults back, and glibc has no call that
restores its adaptive default. A caller who shares the process opts out before the first
training step: ``MINIGAN_KEEP_FREED_MEMORY=0`` in the environment, or
``set_keep_freed_memory(False)`` (``minigan.parallel.set_keep_freed_memory``).
"""

import ctypes
import ctypes.util

from .switch import Switch

THRESHOLD = 1 << 30          # 1 GiB
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # mallopt parameters (glibc's malloc.h)
_done = False                # asked once per process: the answer is kept in _kept
_kept = False
_allowed = Switch("MINIGAN_KEEP_FREED_MEMORY", "parallel.set_keep_freed_memory",
                  on="keep freed memory for reuse", off="leave glibc's malloc alone")


def set_keep_freed_memory(enabled):
    """Allow (True, the default) or forbid (False) ``keep_freed_memory`` to raise glibc's
    thresholds; None: back to ``MINIGAN_KEEP_FREED_MEMORY`` ("1" or "0"). Returns the
    previous setting. Decided at the first region of the process: call it before the
    first training step (thresholds once raised stay raised)."""
    return _allowed.set(enabled)


def allowed():
    """Whether ``keep_freed_memory`` may change the allocator (see set_keep_freed_memory)."""
    return _allowed.enabled()


def keep_freed_memory():
    """Ask glibc to keep freed blocks below THRESHOLD for reuse (decided once per process;
    True if it did)."""
    global _done, _kept
    if _done:
        return _kept
    _done = True
    if not allowed():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.restype, mallopt.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
    # process-wide, for the rest of the process: see the module docstring
    _kept = bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, THRESHOLD))
    return _kept
