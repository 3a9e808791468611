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
sampling call). Elsewhere than glibc (macOS, musl) it does nothing. Set
``MINIGAN_KEEP_FREED_MEMORY=0`` to leave the allocator alone.
"""

import ctypes
import ctypes.util
import os

THRESHOLD = 1 << 30          # 1 GiB
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # mallopt parameters (glibc's malloc.h)
_done = False


def keep_freed_memory():
    """Ask glibc to keep freed blocks below THRESHOLD for reuse (once; True if it did)."""
    global _done
    if _done:
        return True
    _done = True
    if os.environ.get("MINIGAN_KEEP_FREED_MEMORY", "1").strip() == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.restype, mallopt.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, THRESHOLD))
