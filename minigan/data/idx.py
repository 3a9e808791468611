"""The IDX file format (MNIST, Fashion-MNIST): read and write, raw or gzip-compressed.

Layout (all integers big-endian)::

    offset 0   2 bytes   zero
    offset 2   1 byte    type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                         0x0D float32, 0x0E float64
    offset 3   1 byte    number of dimensions, ndim
    offset 4   4*ndim    one uint32 per dimension
    offset 4+4*ndim      the data, C order, big-endian

``read_idx`` checks the header against the size of the file *before* allocating the
array (a corrupt header claiming 2^32 x 2^32 items is refused, not allocated), then
reads the data straight into a preallocated array: ``readinto`` from the file, or from
the decompressing stream for ``.gz`` (whose trailer, ISIZE, gives the decompressed
size mod 2^32). A gzip file's header and trailer can both lie (and agree), so for
``.gz`` the buffer starts at most a few times the compressed size and grows in place
(``realloc``) only as decompressed data really arrives: memory stays proportional to
the data, never to what a corrupt header claims. No full-size intermediate ``bytes``
copy is made, so the 47 MB MNIST training images need 47 MB of memory. Multi-byte
types are byte-swapped in place to the native order.

A caller that knows what it wants (the MNIST loader: uint8 images of 28x28, at most a
million of them) passes ``accept``: it sees the header's dimensions and type before a
single data byte is read or any memory is allocated, and can refuse the file there.
"""

import gzip
import os
import struct
import zlib

import numpy as np

from ..atomic import atomic_write
from ..errors import InputError

__all__ = ["IDXFormatError", "read_idx", "write_idx", "IDX_TYPES"]

IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: "i2", 0x0C: "i4", 0x0D: "f4", 0x0E: "f8"}
"""IDX type code -> NumPy type character code (the file stores them big-endian)."""

_CODES = {np.dtype(v).newbyteorder("<").str[1:]: k for k, v in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand data by more than ~1032:1
_CHUNK = 1 << 18  # bytes per readinto: bounds the decompression buffers
_GZIP_FIRST = 8  # a .gz buffer starts at up to 8x the compressed size (MNIST: ~4.7x)...
_GZIP_FIRST_MIN = 1 << 16  # ...or 64 KiB, and doubles only as decompressed data arrives


class IDXFormatError(InputError, ValueError):
    """A file is not a valid IDX file: wrong magic, unknown type, truncated, trailing data."""


def _fail(path, what):
    raise IDXFormatError(f"{os.path.basename(os.fspath(path))}: {what} (file {os.fspath(path)})")


def _describe(dims, dtype):
    return f"{'x'.join(map(str, dims)) or 'scalar'} {np.dtype(dtype).name}"


def _parse_header(path, f):
    """Read and check the magic number and dimensions; return (dims, dtype, offset)."""
    magic = f.read(4)
    if len(magic) < 4:
        _fail(path, f"truncated: {len(magic)} bytes, too short for the 4-byte IDX magic number")
    zero, code, ndim = struct.unpack(">HBB", magic)
    if zero != 0:
        hint = " (it looks like an HTML page)" if magic[:1] == b"<" else ""
        _fail(path, f"wrong magic number 0x{magic.hex()}: an IDX file starts with two zero "
                    f"bytes, a type code and the number of dimensions{hint}")
    if code not in IDX_TYPES:
        _fail(path, f"unknown IDX type code 0x{code:02x} in magic number 0x{magic.hex()} "
                    f"(known: {', '.join(f'0x{c:02X}' for c in IDX_TYPES)})")
    if ndim == 0:
        _fail(path, "the magic number says 0 dimensions")
    raw = f.read(4 * ndim)
    if len(raw) < 4 * ndim:
        _fail(path, f"truncated header: {ndim} dimensions need {4 * ndim} bytes from offset 4, "
                    f"found {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw)
    return dims, np.dtype(">" + IDX_TYPES[code]), 4 + 4 * ndim


def _check_describable(path, dims, dtype):
    """Before an array of shape ``dims`` is made: NumPy can describe it only if the product
    of its nonzero dimensions, in bytes, fits its index type -- even for an empty array (a
    shape like (2**32 - 1, 2**31 + 1, 0) has no data and still cannot be made)."""
    span = dtype.itemsize
    for d in dims:
        span *= max(d, 1)
    if span > np.iinfo(np.intp).max:
        _fail(path, f"header says {_describe(dims, dtype)}: dimensions too large for an array "
                    f"(their nonzero ones multiply past {np.iinfo(np.intp).max} bytes)")


def _data_bytes(dims, dtype):
    n = dtype.itemsize  # Python ints: no overflow however large the header claims
    for d in dims:
        n *= d
    return n


def _size_error(path, dims, dtype, offset, expected, held, kind="file holds"):
    what = "truncated" if held < expected else "trailing data"
    _fail(path, f"{what}: header says {_describe(dims, dtype)} ({expected} bytes of data from "
                f"offset {offset}), {kind} {held} bytes")


def _readinto_exact(path, stream, out, dims, dtype, offset, kind):
    """Fill ``out`` (a preallocated array) from ``stream``; fail clearly if it runs short."""
    view = memoryview(out.reshape(-1).view(np.uint8))  # a view: writes land in out
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:got + _CHUNK])
        if not n:
            _size_error(path, dims, dtype, offset, len(view), got, kind)
        got += n
    return got


def _readinto_growing(path, stream, dims, dtype, offset, first):
    """Read exactly the header's data bytes from ``stream`` (a decompressing stream) into
    a buffer of at most ``first`` bytes that doubles in place only when it is full, so a
    header claiming more than the stream holds costs memory for what it holds, not more."""
    expected = _data_bytes(dims, dtype)
    buffer = np.empty(min(expected, first), dtype=np.uint8)
    got = 0
    while True:
        with memoryview(buffer) as view:  # released before any resize
            while got < len(buffer):
                n = stream.readinto(view[got:got + _CHUNK])
                if not n:
                    _size_error(path, dims, dtype, offset, expected, got,
                                "decompressed stream holds")
                got += n
        if got == expected:
            _check_describable(path, dims, dtype)
            return buffer.view(dtype).reshape(dims)
        buffer.resize(min(expected, 2 * len(buffer)), refcheck=False)  # realloc, in place


def _to_native(array):
    """Byte-swap a big-endian array in place and view it in native byte order."""
    if array.dtype.itemsize > 1 and not array.dtype.isnative:
        array.byteswap(inplace=True)
        array = array.view(array.dtype.newbyteorder("="))
    return array


def _accept(path, dims, dtype, accept):
    """Run the caller's check of the header (before any data is read)."""
    if accept is not None:
        problem = accept(dims, np.dtype(dtype).newbyteorder("="))
        if problem:
            _fail(path, f"header says {_describe(dims, dtype)}; {problem}")


def _read_raw(path, f, file_size, accept):
    dims, dtype, offset = _parse_header(path, f)
    _accept(path, dims, dtype, accept)
    expected = _data_bytes(dims, dtype)
    if file_size - offset != expected:
        _size_error(path, dims, dtype, offset, expected, file_size - offset)
    _check_describable(path, dims, dtype)
    out = np.empty(dims, dtype=dtype)
    _readinto_exact(path, f, out, dims, dtype, offset, "file holds")
    return out


def _read_gzip(path, f, file_size, accept):
    # The last 4 bytes of a gzip file (ISIZE) are the decompressed size mod 2^32.
    if file_size < 18:
        _fail(path, f"truncated gzip file: {file_size} bytes, a gzip file needs at least 18")
    f.seek(file_size - 4)
    isize = struct.unpack("<I", f.read(4))[0]
    f.seek(0)
    try:
        with gzip.GzipFile(fileobj=f, mode="rb") as z:
            dims, dtype, offset = _parse_header(path, z)
            _accept(path, dims, dtype, accept)
            expected = _data_bytes(dims, dtype)
            total = offset + expected
            if total > file_size * _MAX_DEFLATE_RATIO + 1024:
                _fail(path, f"header says {_describe(dims, dtype)} ({expected} bytes of data), "
                            f"more than a {file_size}-byte gzip file can hold")
            if total % 2**32 != isize:
                _fail(path, f"header says {_describe(dims, dtype)} ({expected} bytes of data from "
                            f"offset {offset}, {total} bytes in all), but the gzip trailer says "
                            f"the file decompresses to {isize} bytes (mod 2^32): truncated, "
                            f"padded or not a single-member gzip file")
            out = _readinto_growing(path, z, dims, dtype, offset,
                                    max(_GZIP_FIRST_MIN, _GZIP_FIRST * file_size))
            extra = z.read(1)  # reaches the end of the stream, which checks the CRC
            if extra:
                extra = 1 + len(z.read(1 << 16))
                _fail(path, f"trailing data: header says {_describe(dims, dtype)} ({expected} "
                            f"bytes of data from offset {offset}), the decompressed stream "
                            f"has at least {extra} bytes more")
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile, CRC errors, cut streams
        _fail(path, f"corrupt or truncated gzip data: {exc}")
    return out


def read_idx(path, accept=None):
    """Read an IDX file (raw, or gzip-compressed: detected by its content) into an array.

    ``accept``, if given, is called as ``accept(dims, dtype)`` (a tuple of ints, a
    native-order NumPy dtype) right after the header is read; a non-empty string it
    returns says what was expected and turns into an ``IDXFormatError``, before any
    data is read.

    Returns a NumPy array of the stored shape, in native byte order (uint8 for MNIST).
    Raises ``IDXFormatError`` naming the file and what is wrong (wrong magic number,
    unknown type code, truncated header or data, trailing data, a corrupt gzip stream),
    and ``FileNotFoundError`` if the file does not exist. The header is checked against
    the file's size before any large allocation.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        compressed = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        read = _read_gzip if compressed else _read_raw
        out = read(path, f, file_size, accept)
    return _to_native(out)


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file at ``path``, atomically (temp file, then rename).

    ``compress`` defaults to ``path.endswith(".gz")``. The dtype must be one IDX can hold
    (uint8, int8, int16, int32, float32, float64); data is written big-endian, and the
    gzip header carries no timestamp, so the same array gives the same bytes.
    """
    path = os.fspath(path)
    array = np.asarray(array)
    key = array.dtype.newbyteorder("<").str[1:]
    if key not in _CODES:
        raise IDXFormatError(f"{os.path.basename(path)}: dtype {array.dtype} cannot be stored "
                             f"in IDX (uint8, int8, int16, int32, float32, float64)")
    if array.ndim == 0 or array.ndim > 255:
        raise IDXFormatError(f"{os.path.basename(path)}: IDX holds 1 to 255 dimensions, "
                             f"got {array.ndim}")
    if compress is None:
        compress = path.endswith(".gz")
    header = struct.pack(">HBB", 0, _CODES[key], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder(">"))
    with atomic_write(path) as f:
        if compress:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as z:
                z.write(header)
                z.write(memoryview(data.reshape(-1).view(np.uint8)))
        else:
            f.write(header)
            f.write(memoryview(data.reshape(-1).view(np.uint8)))
