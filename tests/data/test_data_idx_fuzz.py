"""Fuzzing ``read_idx``: valid IDX files (raw and .gz) written by ``write_idx`` from
hypothesis-drawn arrays, then mutated (bytes flipped or set in header, body and gzip
trailer, truncated, extended, dims set to huge values, type code or ndim changed, the
gzip header, CRC, ISIZE or deflate stream corrupted, the file emptied).

Every outcome must be either the array the mutated bytes legitimately encode (checked
against the small reference decoder below, written from the format's spec, not from
minigan) or ``IDXFormatError`` naming the file -- never another exception, and never an
allocation out of proportion to the file: peak traced memory (``tracemalloc``; NumPy
reports its array buffers to it) stays under a bound linear in the file's sizes.
"""

import gzip
import math
import os
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigan.data import IDXFormatError, read_idx, write_idx

# --- a reference decoder, from the IDX format as LeCun et al. publish it with MNIST -------

SPEC_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def spec_header(data):
    """(dims, big-endian dtype, data offset), or None if the header is not valid."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in SPEC_TYPES or not data[3]:
        return None
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        return None
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return dims, np.dtype(SPEC_TYPES[data[2]]), 4 + 4 * ndim


def spec_decode(data):
    """The array an uncompressed IDX byte string encodes, in native byte order, or None."""
    header = spec_header(data)
    if header is None:
        return None
    dims, dtype, offset = header
    if dtype.itemsize * math.prod(max(d, 1) for d in dims) > np.iinfo(np.intp).max:
        return None  # a shape no array can have, even an empty one
    if len(data) - offset != dtype.itemsize * math.prod(dims):  # exact size, no trailing bytes
        return None
    count = math.prod(dims)
    array = np.frombuffer(bytes(data), dtype=dtype, count=count, offset=offset).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def gunzip(data):
    """What a gzip reader makes of ``data`` (None if it is not valid gzip): members may
    be several, and zero padding may follow them."""
    try:
        return gzip.decompress(bytes(data))
    except (OSError, EOFError, zlib.error):
        return None


def gunzip_one_member(data):
    """The content of ``data`` if it is exactly one valid gzip member (zlib checks the
    header, the CRC-32 and ISIZE) and nothing else, or None."""
    inflate = zlib.decompressobj(wbits=31)
    try:
        content = inflate.decompress(bytes(data))
    except zlib.error:
        return None
    return content if inflate.eof and not inflate.unused_data else None


# --- valid files -----------------------------------------------------------------------------

DTYPES = ["uint8", "int8", ">i2", "<i2", "int32", "float32", "float64"]


@st.composite
def valid_arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6))
    if dtype.kind == "f":  # any bit pattern: NaN payloads, infinities, subnormals, -0.0
        bits = draw(hnp.arrays(np.dtype(f"u{dtype.itemsize}"), shape))
        return bits.view(dtype)
    return draw(hnp.arrays(dtype, shape))


# --- mutations -------------------------------------------------------------------------------

HUGE = [0, 1, 7, 2**16, 2**24, 2**31 - 1, 2**31, 2**32 - 1]
position = st.integers(0, 2**16)

# on the IDX bytes (the whole raw file, or the payload inside the gzip stream)
idx_mutations = st.one_of(
    st.tuples(st.just("flip"), st.sampled_from(["header", "body", "any"]), position,
              st.integers(0, 7)),
    st.tuples(st.just("set"), st.sampled_from(["header", "body", "any"]), position,
              st.integers(0, 255)),
    st.tuples(st.just("truncate"), position),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("dim"), st.integers(0, 5),
              st.one_of(st.sampled_from(HUGE), st.integers(0, 2**32 - 1))),
    st.tuples(st.just("code"), st.one_of(st.sampled_from(sorted(SPEC_TYPES)),
                                         st.integers(0, 255))),
    st.tuples(st.just("ndim"), st.integers(0, 255)),
    st.tuples(st.just("empty")),
)

# on the compressed bytes of a .gz file
gzip_mutations = st.one_of(
    st.tuples(st.just("flip"), st.sampled_from(["gzip-header", "deflate", "trailer", "any"]),
              position, st.integers(0, 7)),
    st.tuples(st.just("set"), st.sampled_from(["gzip-header", "deflate", "trailer", "any"]),
              position, st.integers(0, 255)),
    st.tuples(st.just("truncate"), position),
    st.tuples(st.just("append"), st.one_of(st.binary(min_size=1, max_size=40),
                                           st.just(b"\0" * 8))),
    st.tuples(st.just("isize"), st.one_of(st.sampled_from(HUGE), st.integers(0, 2**32 - 1))),
    st.tuples(st.just("isize-agrees")),  # ISIZE made to agree with the (mutated) header
    st.tuples(st.just("crc"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("empty")),
)

REGIONS = {  # (start, stop) of each region, from the length of the data
    "header": lambda n: (0, min(n, 16)), "body": lambda n: (min(n, 16), n),
    "gzip-header": lambda n: (0, min(n, 10)), "deflate": lambda n: (min(n, 10), max(0, n - 8)),
    "trailer": lambda n: (max(0, n - 8), n), "any": lambda n: (0, n),
}


def pick(data, region, pos):
    start, stop = REGIONS[region](len(data))
    if stop <= start:
        start, stop = 0, len(data)
    return None if stop <= start else start + pos % (stop - start)


def claimed_total(idx_bytes):
    """Header + data bytes the IDX header claims (None if the header cannot be parsed)."""
    header = spec_header(idx_bytes)
    if header is None:
        return None
    dims, dtype, offset = header
    return offset + dtype.itemsize * math.prod(dims)


def mutate(data, op, idx_bytes=None):
    data = bytearray(data)
    kind = op[0]
    if kind in ("flip", "set"):
        at = pick(data, op[1], op[2])
        if at is not None:
            data[at] = data[at] ^ (1 << op[3]) if kind == "flip" else op[3]
    elif kind == "truncate":
        del data[op[1] % (len(data) + 1):]
    elif kind == "append":
        data += op[1]
    elif kind == "dim":
        at = 4 + 4 * op[1]
        if len(data) >= at + 4:
            data[at:at + 4] = struct.pack(">I", op[2])
    elif kind in ("code", "ndim"):
        at = 2 if kind == "code" else 3
        if len(data) > at:
            data[at] = op[1]
    elif kind == "empty":
        data = bytearray()
    elif kind in ("isize", "crc", "isize-agrees"):
        if len(data) >= 8:
            if kind == "isize-agrees":
                total = claimed_total(idx_bytes)
                if total is None:
                    return data
                value = total % 2**32
            else:
                value = op[1]
            at = len(data) - 4 if kind != "crc" else len(data) - 8
            data[at:at + 4] = struct.pack("<I", value)
    return data


# --- the property ----------------------------------------------------------------------------

BASE_BYTES = 512 * 1024  # zlib state, gzip and readinto buffers, messages (measured: ~200 KiB)


def read_measured(path):
    """(array or None, IDXFormatError or None, peak traced bytes) of read_idx(path)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        return read_idx(path), None, tracemalloc.get_traced_memory()[1]
    except IDXFormatError as error:
        return None, error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def check_outcome(path, file_bytes, expected, allowed_error, memory_bound):
    """``expected``: the array the bytes encode, or None (then an error is required);
    ``allowed_error``: an error is acceptable even though ``expected`` is an array."""
    path.write_bytes(bytes(file_bytes))
    out, error, peak = read_measured(path)
    assert peak <= memory_bound, (f"peak {peak} bytes reading a {len(file_bytes)}-byte file "
                                  f"(bound {memory_bound})")
    if error is not None:
        event("outcome: IDXFormatError")
        message = str(error)
        assert message.startswith(path.name + ": ") and os.fspath(path) in message, message
        assert expected is None or allowed_error, f"valid file refused: {message}"
        return
    event("outcome: array")
    assert expected is not None, f"invalid file accepted as {out.dtype} {out.shape}"
    assert out.dtype == expected.dtype and out.dtype.isnative
    assert out.shape == expected.shape
    assert out.tobytes() == expected.tobytes()  # bitwise: NaN payloads, -0.0 included


def file_for(tmp_path_factory, name):
    return tmp_path_factory.mktemp("fuzz") / name


FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(array=valid_arrays(), ops=st.lists(idx_mutations, min_size=1, max_size=3))
def test_fuzz_raw_idx(tmp_path_factory, array, ops):
    path = file_for(tmp_path_factory, "fuzz-idx-ubyte")
    write_idx(path, array)
    valid = path.read_bytes()
    assert spec_decode(valid).tobytes() == array.astype(array.dtype.newbyteorder("=")).tobytes()
    data = valid
    for op in ops:
        data = mutate(data, op)
    event("raw: unchanged" if bytes(data) == valid else "raw: mutated")
    # a raw file that happens to start with the gzip magic is read as gzip: always invalid,
    # as IDX starts with two zero bytes; spec_decode says None for it too
    check_outcome(path, data, spec_decode(data), allowed_error=False,
                  memory_bound=BASE_BYTES + 4 * (len(valid) + len(data)))


@FUZZ
@given(array=valid_arrays(),
       ops=st.lists(st.one_of(st.tuples(st.just("inner"), idx_mutations),
                              st.tuples(st.just("outer"), gzip_mutations)),
                    min_size=1, max_size=3))
def test_fuzz_gzip_idx(tmp_path_factory, array, ops):
    inner = [op for layer, op in ops if layer == "inner"]
    outer = [op for layer, op in ops if layer == "outer"]
    path = file_for(tmp_path_factory, "fuzz-idx-ubyte.gz")
    write_idx(path, array)
    compressed = path.read_bytes()
    valid = gzip.decompress(compressed)
    payload = valid
    for op in inner:  # mutate the IDX bytes, then compress them validly
        payload = mutate(payload, op)
    data = compressed if not inner else gzip.compress(bytes(payload), mtime=0)
    for op in outer:  # then corrupt the gzip container
        data = mutate(data, op, idx_bytes=payload)
    event(f"gzip: mutated {'+'.join(['payload'] * bool(inner) + ['container'] * bool(outer))}")
    single, decompressed = gunzip_one_member(data), gunzip(data)
    if data[:2] != b"\x1f\x8b":  # no gzip magic any more: read as a raw IDX file
        expected, allowed_error = spec_decode(data), False
    elif single is not None:  # one valid member: exactly what it holds
        expected, allowed_error = spec_decode(single), False
    elif decompressed is not None:
        # valid gzip but not one plain member (zero padding, several members): may be
        # refused (ISIZE is the last member's), but if read, read right
        expected, allowed_error = spec_decode(decompressed), True
        event("gzip: decodable, not a single member")
    else:  # not valid gzip: must be refused
        expected, allowed_error = None, False
    bound = BASE_BYTES + 8 * len(data) + 4 * (len(valid) + len(payload))
    check_outcome(path, data, expected, allowed_error, bound)


# --- targeted: a gzip header and trailer that lie together ----------------------------------


def lying_gzip(payload_bytes, itemsize_code=0x08):
    """A gzip file of a uint8 IDX payload whose header claims as much data as the deflate
    ratio check lets a file of its size claim, with ISIZE set to agree (mod 2^32)."""
    def build(dims):
        header = struct.pack(">HBB", 0, itemsize_code, len(dims)) + struct.pack(
            f">{len(dims)}I", *dims)
        return bytearray(gzip.compress(header + payload_bytes, compresslevel=1, mtime=0))

    data = build([1, 1])
    while True:  # the claim changes the compressed size a little: settle on one that fits
        claim = len(data) * 1032 + 1024 - 12  # 12 header bytes: total <= size * 1032 + 1024
        dims = [claim // 65536, 65536]
        data = build(dims)
        if 12 + dims[0] * dims[1] <= len(data) * 1032 + 1024:
            break
    data[-4:] = struct.pack("<I", (12 + dims[0] * dims[1]) % 2**32)
    return data, dims


def test_gzip_header_and_trailer_that_agree_on_a_lie_cost_no_memory(tmp_path):
    payload = np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    data, dims = lying_gzip(payload)
    path = tmp_path / "liar-idx2-ubyte.gz"
    path.write_bytes(data)
    _, error, peak = read_measured(path)
    assert error is not None, "a file holding 20,000 bytes read as " + "x".join(map(str, dims))
    assert str(error).startswith("liar-idx2-ubyte.gz: ")
    # the claim is ~20 MB; what the file holds is 20 KB
    assert dims[0] * dims[1] > 10**7
    assert peak <= BASE_BYTES + 8 * len(data) + 4 * len(payload), peak


@pytest.mark.slow
def test_lying_gzip_the_size_of_fashion_mnist_is_refused_not_allocated(tmp_path):
    # 26 MB of incompressible data (Fashion-MNIST's train images .gz is 26.4 MB): before
    # the buffer grew with the data, this asked NumPy for 25 GiB and raised MemoryError
    payload = np.random.default_rng(1).integers(0, 256, 26_000_000, dtype=np.uint8).tobytes()
    data, dims = lying_gzip(payload)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(data)
    del data
    _, error, peak = read_measured(path)
    assert error is not None and str(error).startswith("train-images-idx3-ubyte.gz: ")
    assert dims[0] * dims[1] > 24 * 2**30  # ~25 GiB
    assert peak <= 9 * path.stat().st_size + BASE_BYTES, peak  # first buffer: 8x the file
