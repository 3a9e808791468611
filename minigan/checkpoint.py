"""Checkpoints: one ``.npz`` of plain arrays, written atomically, read without pickle.

A checkpoint holds a flat {name: array} mapping (both networks, both optimizers,
BatchNorm running statistics, step count, data-order state, ...) and one JSON
document of metadata (the run's configuration), stored as a unicode array under
``__meta__``. Nothing in it needs pickle, and nothing is ever unpickled: a member
holding pickled objects is refused.

Writing goes to a temporary file in the same directory, is flushed and fsync'ed,
then renamed over the target (``os.replace`` is atomic), so a crash at any moment
leaves either the old checkpoint or the new one, never half of one.

Reading treats the file as hostile. ``CheckpointReader`` opens the zip archive
itself (not ``numpy.load``) and reads a member only when asked for it: an extra
member, however large, is never decompressed. Before a member's data is read, its
``.npy`` header (shape, dtype) is checked -- against the shape the caller expects, when
one is given, and always against the member's size in the archive and what the
archive's bytes can hold -- so a header claiming 10^12 floats costs nothing. A file
that is not a zip archive at all (a web page, a picture, a single ``.npy`` array, a
directory) is named for what it is. Every failure is a ``CheckpointError``.
"""

import json
import math
import os
import zipfile
import zlib

import numpy
from numpy.lib import format as npy_format

from . import backend
from .atomic import atomic_write
from .errors import InputError
from .file_kind import describe_path

META_KEY = "__meta__"
MAX_META_BYTES = 1 << 20
"""The metadata (the run's settings and the data-order state) is about 1 KB; 1 MiB is
far more than any real checkpoint needs and bounds what a hostile one can make us parse."""
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data by more than ~1032:1
_CHUNK = 1 << 20

EXPECTED = ("expected a minigan checkpoint: an .npz archive written by minigan train, "
            "such as RUN/checkpoints/last.npz")


class CheckpointError(InputError, ValueError):
    """A checkpoint file is missing, unreadable, truncated or does not fit the model."""


def save_checkpoint(path, arrays, meta=None):
    """Write {name: array or number} and a JSON-able ``meta`` dict to ``path`` atomically."""
    if META_KEY in arrays:
        raise CheckpointError(f"save_checkpoint: '{META_KEY}' is the name of the metadata "
                              "entry; give the array another name (or put it in meta)")
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


def load_checkpoint(path, names=None):
    """Return (arrays: {name: numpy array}, meta: dict): every member, or only those in
    ``names`` (the others are never read). Raises ``CheckpointError`` for bad files."""
    with CheckpointReader(path) as reader:
        wanted = reader.names if names is None else [n for n in names if n in reader.names]
        return {name: reader.read(name) for name in wanted}, reader.meta


class CheckpointReader:
    """An open checkpoint: ``meta`` (dict) and ``names`` are read at once; ``header(name)``
    and ``read(name, shape=None)`` look at one member only. Use as a context manager."""

    def __init__(self, path):
        self.path = os.fspath(path)
        kind = describe_path(self.path)
        if kind == "no such file":
            raise CheckpointError(f"{self.path}: no such checkpoint file ({EXPECTED})")
        if kind not in ("a zip archive", "an empty zip archive"):
            raise CheckpointError(f"{self.path}: the file is {kind}; {EXPECTED}")
        self._size = os.path.getsize(self.path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            self._corrupt(error)
        try:
            members = [info for info in self._zip.infolist() if info.filename.endswith(".npy")]
            self._members = {info.filename[:-4]: info for info in members}
            if META_KEY not in self._members:
                raise CheckpointError(f"{self.path}: not a minigan checkpoint (no "
                                      f"'{META_KEY}' entry); {EXPECTED}")
            self.meta = self._read_meta()
        except BaseException:
            self._zip.close()
            raise
        self.names = [name for name in self._members if name != META_KEY]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self._zip.close()

    def _corrupt(self, error, member=None):
        where = f" (member '{member}')" if member else ""
        raise CheckpointError(f"{self.path}: not a readable minigan checkpoint (truncated or "
                              f"corrupted .npz){where}: {error}") from None

    def _read_meta(self):
        shape, dtype = self.header(META_KEY)
        if shape != () or dtype.kind != "U" or dtype.itemsize > MAX_META_BYTES:
            raise CheckpointError(f"{self.path}: '{META_KEY}' must be one JSON string of at "
                                  f"most {MAX_META_BYTES} bytes, got {dtype} of shape {shape}")
        text = str(self.read(META_KEY))
        try:
            meta = json.loads(text)
        except RecursionError:
            raise CheckpointError(f"{self.path}: '{META_KEY}' is JSON nested too deep to be "
                                  "a minigan checkpoint's metadata (a few levels)") from None
        except ValueError as error:
            raise CheckpointError(f"{self.path}: '{META_KEY}' is not valid JSON ({error})") \
                from None
        if not isinstance(meta, dict):
            raise CheckpointError(f"{self.path}: '{META_KEY}' must be a JSON object, got "
                                  f"{type(meta).__name__}")
        return meta

    def _info(self, name):
        if name not in self._members:
            raise CheckpointError(f"{self.path}: has no member '{name}'")
        return self._members[name]

    def header(self, name):
        """(shape, dtype) of member ``name``, from its ``.npy`` header alone."""
        with self._open(name) as stream:
            return self._parse_header(name, stream)[:2]

    def _open(self, name):
        info = self._info(name)
        bound = info.compress_size if info.compress_type == zipfile.ZIP_STORED else \
            info.compress_size * _MAX_DEFLATE_RATIO + 1024
        if info.compress_size > self._size or info.file_size > bound:
            raise CheckpointError(f"{self.path}: member '{name}' claims {info.file_size} "
                                  f"bytes, more than a {self._size}-byte file can hold")
        try:
            return self._zip.open(info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) \
                as error:
            self._corrupt(error, name)

    def _parse_header(self, name, stream):
        """Read the member's ``.npy`` header: (shape, dtype, fortran_order), checked
        against the member's size in the archive before anything else is read."""
        try:
            version = npy_format.read_magic(stream)
            if version == (1, 0):
                shape, fortran, dtype = npy_format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran, dtype = npy_format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            offset = stream.tell()
        except (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error) as error:
            self._corrupt(error, name)
        if dtype.hasobject:
            raise CheckpointError(f"{self.path}: refused: member '{name}' holds pickled "
                                  "objects (dtype object); minigan checkpoints hold plain "
                                  "arrays only and are never unpickled")
        nbytes = math.prod(shape) * dtype.itemsize
        size = self._info(name).file_size
        if offset + nbytes != size:
            raise CheckpointError(f"{self.path}: member '{name}': its header says {dtype} of "
                                  f"shape {shape} ({nbytes} bytes of data from offset {offset})"
                                  f", the member holds {size - offset} bytes")
        return shape, dtype, fortran

    def read(self, name, shape=None):
        """Member ``name`` as a NumPy array; with ``shape``, a member of another shape is
        refused before its data is read."""
        with self._open(name) as stream:
            found, dtype, fortran = self._parse_header(name, stream)
            if shape is not None and tuple(shape) != found:
                raise CheckpointError(f"{self.path}: '{name}' has shape {found}, expected "
                                      f"{tuple(shape)}")
            out = numpy.empty(found[::-1] if fortran else found, dtype=dtype)
            try:
                _fill(stream, out)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
                self._corrupt(error, name)
        return out.T if fortran else out


def _fill(stream, out):
    """Read exactly ``out.nbytes`` bytes from ``stream`` into ``out``; reaching the end of
    the member checks its CRC."""
    view = memoryview(out.reshape(-1).view(numpy.uint8)) if out.nbytes else memoryview(b"")
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:got + _CHUNK])
        if not n:
            raise EOFError(f"the data ends after {got} of {len(view)} bytes")
        got += n
    if stream.read(1):
        raise EOFError("trailing bytes after the array data")
