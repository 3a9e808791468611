"""Per-thread scratch arrays for the temporaries of the CPU engine's primitives.

Why: a large fresh array is fresh pages from the OS, page-faulted in at first touch.
The CPU engine's temporaries (a piece's zero-padded input, its col2im accumulator,
Adam's intermediate) are the same shapes at every training step, so each thread keeps
one array per purpose and reuses it.

The rule that keeps this safe: **a scratch array never leaves the primitive that uses
it**. Whatever a primitive returns -- im2col matrices, folded gradients, products,
sums -- is a fresh array. Arrays are keyed by (name, shape, dtype, backend): another
batch size or dtype gets a new array, which replaces the old one (keeping several shapes
per name was measured worse: long-lived large buffers keep glibc's malloc from raising
its mmap threshold, so the step's other large temporaries got fresh pages again).
"""

import threading

from .. import backend

_local = threading.local()


def scratch(name, shape, dtype):
    """This thread's reusable array for ``name``: uninitialised (whatever the last user
    left in it), of ``shape`` and ``dtype`` on the active backend."""
    arrays = getattr(_local, "arrays", None)
    if arrays is None:
        arrays = _local.arrays = {}
    shape = tuple(int(s) for s in shape)
    key = (shape, backend.xp.dtype(dtype), backend.name)
    entry = arrays.get(name)
    if entry is None or entry[0] != key:
        entry = arrays[name] = (key, backend.xp.empty(shape, dtype=dtype))
    return entry[1]


def scratch_zeros(name, shape, dtype):
    """``scratch`` filled with zeros."""
    array = scratch(name, shape, dtype)
    array.fill(0)
    return array
