"""Checkpoints: one ``.npz`` of plain arrays, written atomically, read without pickle.

A checkpoint holds a flat {name: array} mapping (both networks, both optimizers,
BatchNorm running statistics, step count, data-order state, ...) and one JSON
document of metadata (the run's configuration), stored as a unicode array under
``__meta__``. Nothing in it needs pickle, and it is loaded with
``allow_pickle=False``: a file holding a pickled object is refused.

Writing goes to a temporary file in the same directory, is flushed and fsync'ed,
then renamed over the target (``os.replace`` is atomic), so a crash at any moment
leaves either the old checkpoint or the new one, never half of one.
"""

import json
import os
import zipfile

import numpy

from . import backend
from .atomic import atomic_write
from .errors import MiniganError

META_KEY = "__meta__"


class CheckpointError(MiniganError, ValueError):
    """A checkpoint file is missing, unreadable, truncated or does not fit the model."""


def save_checkpoint(path, arrays, meta=None):
    """Write {name: array or number} and a JSON-able ``meta`` dict to ``path`` atomically."""
    host = {name: numpy.asarray(backend.to_numpy(value)) for name, value in arrays.items()}
    for name, value in host.items():
        if value.dtype.hasobject:
            raise CheckpointError(f"save_checkpoint: '{name}' is an object array; "
                                  "checkpoints hold plain numeric arrays only")
    host[META_KEY] = numpy.array(json.dumps(meta or {}, sort_keys=True))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_write(path) as file:  # a file object: savez must not append ".npz"
        numpy.savez(file, **host)
    return path


def load_checkpoint(path):
    """Return (arrays: {name: numpy array}, meta: dict). Clear errors for bad files."""
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with numpy.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as error:  # numpy refuses object arrays when allow_pickle=False
        raise CheckpointError(f"{path}: refused: the file holds pickled objects ({error}); "
                              "minigan checkpoints hold plain arrays only") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as error:
        raise CheckpointError(f"{path}: not a readable minigan checkpoint (truncated or "
                              f"corrupted .npz): {error}") from None
    if META_KEY not in arrays:
        raise CheckpointError(f"{path}: not a minigan checkpoint (no '{META_KEY}' entry)")
    meta = json.loads(str(arrays.pop(META_KEY)))
    return arrays, meta
