"""Shuffled mini-batches for training, resumable exactly.

``to_unit_range`` maps uint8 pixels to float32 in [-1, 1] (the range of the generator's
tanh output) and adds the channel axis: (N, 28, 28) -> (N, 28, 28, 1), NHWC.

``Batches`` converts the whole dataset once, puts it on the active backend once (under
CuPy the float32 images live on the GPU and each batch is gathered there with a device
index array: no per-step host-to-device copy of images), and hands out one shuffled
epoch per ``for`` loop::

    batches = Batches(images, labels, batch_size=64, seed=0)
    for epoch in range(epochs):
        for x, y in batches:          # x: (64, 28, 28, 1) float32 in [-1, 1]; y: (64,)
            trainer.step(x)

The permutation comes from a NumPy ``Generator`` (PCG64) on the host, whatever the
backend, because CuPy's generator cannot be serialised. ``state_dict()`` holds the epoch
count, the position in the current epoch and the generator's state at the start of that
epoch, as plain JSON-able data; after ``load_state_dict`` the run sees exactly the batches
an uninterrupted one would have seen.
"""

import numpy as np

from .. import backend
from ..errors import ConfigError, DTypeError, ShapeError, StateError
from ..validate import SUPPORTED_FLOATS, check_finite, is_int

__all__ = ["Batches", "to_unit_range"]


def to_unit_range(images):
    """uint8 images (N, H, W) or (N, H, W, C) -> float32 NHWC in [-1, 1]: ``x / 127.5 - 1``.

    0 maps to -1 and 255 to 1 exactly. A 3-d input gains a channel axis of size 1.
    Works on NumPy arrays (and on device arrays of the active backend).
    """
    if images.dtype != np.uint8:
        raise DTypeError(f"to_unit_range: expected uint8 pixel values 0..255, got "
                         f"{images.dtype}")
    if images.ndim not in (3, 4):
        raise ShapeError(f"to_unit_range: expected images (N, H, W) or NHWC (N, H, W, C), "
                         f"got shape {tuple(images.shape)}")
    out = images.astype(np.float32)
    out /= 127.5
    out -= 1.0
    return out if out.ndim == 4 else out.reshape(out.shape + (1,))


def generator_state_to_json(state):
    """A copy of a bit_generator state with Python ints above 2**53 written as strings."""
    if isinstance(state, dict):
        return {k: generator_state_to_json(v) for k, v in state.items()}
    if isinstance(state, (int, np.integer)) and not isinstance(state, bool):
        value = int(state)
        return str(value) if abs(value) >= 2**53 else value
    return state


def generator_state_from_json(state):
    """The bit_generator state that ``generator_state_to_json`` wrote (digit strings back
    to ints)."""
    if isinstance(state, dict):
        return {k: generator_state_from_json(v) for k, v in state.items()}
    if isinstance(state, str) and state.lstrip("-").isdigit():
        return int(state)
    return state


class Batches:
    """Shuffled mini-batches of a dataset, one epoch per iteration; exactly resumable.

    Parameters
    ----------
    images : uint8 array (N, H, W) or (N, H, W, C)
        Raw pixels; converted once with ``to_unit_range`` to float32 NHWC in [-1, 1].
        (A float32 or float64 NHWC array is taken as already scaled and kept in its
        dtype; it must be finite.)
    labels : array (N,) or None
        Carried along: each batch's labels match its images.
    batch_size : int
    seed : int
        Seeds the NumPy generator that draws each epoch's permutation.
    drop_last : bool
        Drop the last, incomplete batch of each epoch (keeps BatchNorm statistics and
        step timing uniform). ``len(batches)`` is the number of batches per epoch.

    Iterating yields ``(x, y)``: ``x`` float NHWC on the active backend, ``y`` the labels
    of the batch (on the active backend) or None. Build it after ``backend.use(...)``; if
    the backend changes later, the data moves to the new backend at the next epoch.
    ``position`` counts the batches handed out in the current epoch, ``epoch`` the
    epochs completed.
    """

    def __init__(self, images, labels=None, batch_size=64, seed=0, drop_last=True):
        images = backend.to_numpy(images)
        if images.dtype == np.uint8:
            data = to_unit_range(images)
        elif images.dtype.name in SUPPORTED_FLOATS and images.ndim == 4:
            data = images
        else:
            raise DTypeError(f"Batches: expected uint8 images (N, H, W[, C]) or float32/float64 "
                             f"NHWC, got {images.dtype} of shape {images.shape}")
        n = len(data)
        if labels is not None:
            labels = backend.to_numpy(labels)
            if labels.shape[:1] != (n,):
                raise ShapeError(f"Batches: {n} images but labels of shape {labels.shape}")
        if not is_int(batch_size) or batch_size < 1:
            raise ConfigError(f"Batches: batch_size must be a positive integer, got "
                              f"{batch_size!r}")
        self.batch_size = int(batch_size)
        self.drop_last = bool(drop_last)
        self.num_samples = n
        if len(self) == 0:
            raise ConfigError(f"Batches: {n} samples with batch_size {batch_size} and "
                              f"drop_last={self.drop_last} give no batch at all")
        self.seed = seed
        self._host = (data, labels)
        self._xp = None
        self._move_to_backend()
        if data is images:  # given as floats (converted uint8 pixels are finite anyway)
            check_finite("Batches", "images", self._data)  # once, over the whole dataset
        self._rng = np.random.default_rng(seed)
        self._epoch_state = None  # generator state at the start of the current epoch
        self._perm = None  # the current epoch's permutation, None between epochs
        self.epoch = 0
        self.position = 0

    def _move_to_backend(self):
        """Put the float dataset (and labels) on the active backend, once per backend."""
        if self._xp is backend.xp:
            return
        data, labels = self._host
        self._data = backend.to_device(data)
        self._labels = None if labels is None else backend.to_device(labels)
        self._xp = backend.xp

    def __len__(self):
        """Batches per epoch."""
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def _start_epoch(self):
        self._epoch_state = self._rng.bit_generator.state
        self._perm = self._rng.permutation(self.num_samples)
        self.position = 0

    def __iter__(self):
        """One epoch (or the rest of the current one, after a break or a resume)."""
        self._move_to_backend()
        if self._perm is None:
            self._start_epoch()
        xp, bs = backend.xp, self.batch_size
        while self.position < len(self):
            start = self.position * bs
            index = xp.asarray(self._perm[start:start + bs])  # host -> device: a few ints
            self.position += 1  # counted as soon as it is handed out
            x = self._data[index]
            y = None if self._labels is None else self._labels[index]
            yield x, y
        self.epoch += 1
        self._perm = None
        self.position = 0

    def state_dict(self):
        """Where the iteration stands, as plain JSON-able data (ints, strings, dicts)."""
        epoch, position = self.epoch, self.position
        if self._perm is None:  # between epochs
            rng_state = self._rng.bit_generator.state
        elif position >= len(self):  # every batch handed out: saved as "epoch done", so
            rng_state = self._rng.bit_generator.state  # a resumed run starts the next one
            epoch, position = epoch + 1, 0
        else:  # inside an epoch: the state that draws this epoch's permutation again
            rng_state = self._epoch_state
        return {
            "epoch": epoch,
            "position": position,
            "batch_size": self.batch_size,
            "num_samples": self.num_samples,
            "drop_last": self.drop_last,
            "rng": generator_state_to_json(rng_state),
        }

    def load_state_dict(self, state):
        """Resume from ``state_dict()``: the next batches are those an uninterrupted run
        would have produced. The dataset and batch settings must be the same."""
        for key in ("batch_size", "num_samples", "drop_last"):
            if key in state and state[key] != getattr(self, key):
                raise StateError(f"Batches.load_state_dict: saved {key}={state[key]!r}, "
                                 f"this loader has {getattr(self, key)!r}")
        position = int(state["position"])
        if not 0 <= position <= len(self):
            raise StateError(f"Batches.load_state_dict: position {position} outside an "
                             f"epoch of {len(self)} batches")
        self._rng.bit_generator.state = generator_state_from_json(state["rng"])
        self.epoch = int(state["epoch"])
        self._perm = None
        self.position = 0
        if position > 0:  # redraw the interrupted epoch's permutation, skip what was seen
            self._start_epoch()
            self.position = position
