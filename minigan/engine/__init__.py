"""The engine: the array primitives that the functional core is written in.

The functional core (``minigan/functional/``) states each operation once, plainly, as the
derivation reads -- a convolution is ``y = im2col(x) @ W``, its gradients
``dW = im2col(x)^T gy`` and ``dx = col2im(gy W^T)`` -- and calls these primitives:

    matmul(a, b)                              a @ b
    im2col(x, kernel, stride, padding)        every window of x as one row of a matrix
    col2im(cols, shape, kernel, stride, padding)
                                              its adjoint: each row added back onto its window
    col2im_product(a, b, shape, kernel, stride, padding)
                                              col2im(a @ b), the input gradient of a convolution
    channel_sums(x)                           sum over every axis but the last
    channel_dots(a, b)                        sum of a * b over every axis but the last
    elementwise(rule, *args)                  rule(*args) for an elementwise rule
    adam_update(p, g, m, v, ...)              Adam's update, in place
    region()                                  a context around a block of work (a training step)

How they run is the engine's business, chosen once by the active backend:

* ``reference`` (``reference.py``): the plain definitions on whole arrays (im2col and
  col2im are those of ``unfold.py``) -- what the tests hold the other two to;
* ``cpu`` (``cpu.py``, the NumPy backend): each primitive in pieces on minigan's own
  threads, one per core, with OpenBLAS on one thread (``threads.py``, ``blas.py``) and
  reused per-thread buffers (``buffers.py``);
* ``device`` (``device.py``, CuPy and the strict test backend): whole-batch
  operations and reductions that are fast on a GPU, no loop over samples or chunks.

``using("reference")`` runs a block on another engine (tests compare them that way);
``profile()`` times every primitive call made inside it (the benchmark's ``--profile``).
"""

import contextlib
import time

from .. import backend
from ..errors import ConfigError
from .cpu import CpuEngine
from .device import DeviceEngine
from .reference import ReferenceEngine

ENGINES = {"reference": ReferenceEngine(), "cpu": CpuEngine(), "device": DeviceEngine()}
_chosen = None   # set by using(); None: the active backend's engine


def active():
    """The engine in use: ``using``'s choice, else ``cpu`` on NumPy and ``device`` on
    every other backend (CuPy, the strict test backend)."""
    if _chosen is not None:
        return _chosen
    return ENGINES["cpu"] if backend.name == "numpy" else ENGINES["device"]


@contextlib.contextmanager
def using(name):
    """Run the block with the engine ``name`` ("reference", "cpu" or "device")."""
    global _chosen
    if name not in ENGINES:
        raise ConfigError(f"engine.using: unknown engine {name!r}, expected one of "
                          f"{sorted(ENGINES)}")
    previous, _chosen = _chosen, ENGINES[name]
    try:
        yield _chosen
    finally:
        _chosen = previous


class Profile:
    """What ``profile()`` measured: ``rows`` maps (primitive, what it was called on) to
    [calls, seconds]; ``seconds`` is the wall time of the whole block."""

    def __init__(self):
        self.rows = {}
        self.seconds = 0.0

    def add(self, key, seconds):
        row = self.rows.setdefault(key, [0, 0.0])
        row[0] += 1
        row[1] += seconds

    def table(self, per=1):
        """Lines 'ms  calls  primitive  arguments', slowest first, times divided by ``per``."""
        rows = sorted(self.rows.items(), key=lambda item: -item[1][1])
        inside = sum(seconds for _, seconds in self.rows.values())
        lines = [f"{1e3 * seconds / per:9.2f} ms {calls / per:6.1f}x  {name:15s} {what}"
                 for (name, what), (calls, seconds) in rows]
        lines.append(f"{1e3 * inside / per:9.2f} ms          in the primitives")
        lines.append(f"{1e3 * (self.seconds - inside) / per:9.2f} ms          outside them "
                     "(Python, the small array operations of the functional core)")
        return lines


_profile = None


@contextlib.contextmanager
def profile():
    """``with profile() as p:`` times every primitive call of the block (wall time, all
    threads of a call included; on a GPU the device is synchronised around each call)
    into ``p`` (a ``Profile``)."""
    global _profile
    previous, _profile = _profile, Profile()
    start = time.perf_counter()
    try:
        yield _profile
    finally:
        _profile.seconds = time.perf_counter() - start
        _profile = previous


def _describe(value):
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return "x".join(map(str, value.shape)) or "scalar"
    if isinstance(value, float):
        return "float"
    return getattr(value, "__name__", None) or repr(value).replace(" ", "")


def _call(name, *args):
    method = getattr(active(), name)
    if _profile is None:
        return method(*args)
    backend.synchronize()       # on a GPU, time the primitive's own kernels only
    start = time.perf_counter()
    result = method(*args)
    backend.synchronize()
    _profile.add((name, " ".join(_describe(a) for a in args)), time.perf_counter() - start)
    return result


def matmul(a, b):
    """a (M, K) @ b (K, P) -> (M, P)."""
    return _call("matmul", a, b)


def im2col(x, kernel, stride, padding):
    """x (N, H, W, C) -> (N*OH*OW, KH*KW*C): every window of the zero-padded x as a row."""
    return _call("im2col", x, kernel, stride, padding)


def col2im(cols, shape, kernel, stride, padding):
    """(N*OH*OW, KH*KW*C) -> (N, H, W, C) = shape: every row added back onto its window."""
    return _call("col2im", cols, shape, kernel, stride, padding)


def col2im_product(a, b, shape, kernel, stride, padding):
    """col2im(a @ b): with a = gy (N*OH*OW, C_out) and b = W^T, a convolution's input
    gradient; with a = x, a transposed convolution."""
    return _call("col2im_product", a, b, shape, kernel, stride, padding)


def channel_sums(x):
    """x (..., C) -> (C,): the sum over every axis but the last."""
    return _call("channel_sums", x)


def channel_dots(a, b):
    """a, b (..., C) -> (C,): the sum of a * b over every axis but the last."""
    return _call("channel_dots", a, b)


def elementwise(rule, *args):
    """rule(*args), for a rule that works element by element (its other array arguments
    have args[0]'s shape, or are (C,) vectors along the last axis, or -- for a 2-d
    args[0] (R, C) -- (R, 1) columns, one value per row); the result has args[0]'s shape
    and dtype."""
    return _call("elementwise", rule, *args)


def adam_update(p, g, m, v, step_size, beta1, beta2, root_correction, eps):
    """In place: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p -= step_size * m / (sqrt(v) / root_correction + eps)."""
    _call("adam_update", p, g, m, v, step_size, beta1, beta2, root_correction, eps)


def region():
    """The context for a block of work such as one training step (the CPU engine hands
    the cores to its threads for the whole block)."""
    return active().region()


def sample_chunk():
    """How many samples a generator produces per forward pass when sampling (None: all)."""
    return active().sample_chunk
