"""Reusable scratch arrays, so the big temporaries of a training step are not
re-allocated (and page-faulted in) at every call.

Why: an im2col matrix of the DCGAN's second convolution is 20 MB at batch 64. A fresh
allocation that large is fresh pages from the OS each time: thousands of page faults
per training step (measured: about 8,000 per step, several ms). Reusing one buffer per
purpose makes that a one-off.

The rule that keeps this safe: **a workspace array never leaves the call (or the layer)
that owns it**. Arrays returned to a caller -- layer outputs, input gradients,
parameter gradients -- are always fresh. Two kinds of owners:

* ``scratch(name, shape, dtype)`` -- a per-thread pool for temporaries that live only
  inside one functional call (the col2im GEMM output, the padded input gradient);
* ``Workspace`` -- owned by one layer for an array its cache keeps until its backward
  (the im2col matrix of ``Conv2d``): a layer holds one cache at a time, and its next
  forward replaces that cache, so the next forward may reuse the buffer.

``tests/test_workspaces.py`` checks that nothing a caller keeps is overwritten later.
Arrays are keyed by (name, shape, dtype, backend): switching the backend or the batch
size gets new ones. Under CuPy this saves little (CuPy has its own memory pool) but
costs nothing either.
"""

import threading

from . import backend


class Workspace:
    """Named scratch arrays, re-allocated only when the shape, dtype or backend changes.

    One array per name: a new shape replaces (and frees) the old one. Keeping several
    shapes per name was measured *worse* (about 11,000 page faults per DCGAN step instead
    of 500): long-lived large buffers keep glibc's malloc from raising its mmap threshold,
    so every other large temporary of the step got fresh pages from the OS again.
    """

    def __init__(self):
        self._arrays = {}

    def empty(self, name, shape, dtype):
        """An uninitialised array (its content is whatever the last user left)."""
        shape = tuple(int(s) for s in shape)
        key = (shape, backend.xp.dtype(dtype), backend.name)
        entry = self._arrays.get(name)
        if entry is None or entry[0] != key:
            entry = (key, backend.xp.empty(shape, dtype=dtype))
            self._arrays[name] = entry
        return entry[1]

    def zeros(self, name, shape, dtype):
        """The array ``empty`` gives, filled with zeros."""
        a = self.empty(name, shape, dtype)
        a.fill(0)
        return a

    def clear(self):
        self._arrays.clear()


_local = threading.local()


def scratch():
    """This thread's Workspace for temporaries that never leave one function call."""
    ws = getattr(_local, "workspace", None)
    if ws is None:
        ws = _local.workspace = Workspace()
    return ws
