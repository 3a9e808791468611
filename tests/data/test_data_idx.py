"""IDX reading and writing: round trips, byte order, and clear errors on bad files."""

import gzip
import struct
import tracemalloc

import numpy as np
import pytest

from minigan.data import IDXFormatError, read_idx, write_idx
from minigan.errors import MiniganError


def header(code, dims):
    return struct.pack(">HBB", 0, code, len(dims)) + struct.pack(f">{len(dims)}I", *dims)


def put(path, data, compress=False):
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
def test_round_trip_every_type(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((7, 5, 3)) * 1000).astype(dtype)
    write_idx(tmp_path / name, a)
    b = read_idx(tmp_path / name)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    assert b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp file left


def test_big_endian_on_disk(tmp_path):
    write_idx(tmp_path / "x", np.array([1, 258, -2], dtype=np.int32))
    raw = (tmp_path / "x").read_bytes()
    assert raw == header(0x0C, [3]) + bytes.fromhex("00000001 00000102 fffffffe")
    np.testing.assert_array_equal(read_idx(tmp_path / "x"), [1, 258, -2])


def test_mnist_like_layout_and_content_sniffing(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    raw = header(0x08, [10]) + labels.tobytes()
    assert raw[:4] == bytes.fromhex("00000801")
    # gzip is recognised by its content, not by the name, either way round
    put(tmp_path / "labels.gz", raw)
    put(tmp_path / "labels", raw, compress=True)
    for p in tmp_path.iterdir():
        np.testing.assert_array_equal(read_idx(p), labels)
    images = np.zeros((0, 28, 28), np.uint8)  # an empty set is still valid
    write_idx(tmp_path / "empty.gz", images)
    assert read_idx(tmp_path / "empty.gz").shape == (0, 28, 28)


def test_error_classes(tmp_path):
    assert issubclass(IDXFormatError, MiniganError) and issubclass(IDXFormatError, ValueError)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("content, message", [
    (b"\x00\x00", r"truncated: 2 bytes, too short for the 4-byte IDX magic"),
    (b"\x12\x34\x08\x01" + b"\0" * 8, r"wrong magic number 0x12340801"),
    (b"<!DOCTYPE html><html>nope</html>", r"wrong magic number.*looks like an HTML page"),
    (b"\x00\x00\x07\x01" + b"\0" * 8, r"unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x00", r"the magic number says 0 dimensions"),
    (b"\x00\x00\x08\x03" + b"\0" * 6, r"truncated header: 3 dimensions need 12 bytes "
                                      r"from offset 4, found 6"),
])
def test_malformed_headers(tmp_path, content, message, compress):
    p = put(tmp_path / "bad-idx1-ubyte", content, compress)
    with pytest.raises(IDXFormatError, match=r"^bad-idx1-ubyte: " + message):
        read_idx(p)


def test_truncated_raw_data_message(tmp_path):
    p = put(tmp_path / "train-images-idx3-ubyte", header(0x08, [60000, 28, 28]) + b"\0" * 1000)
    with pytest.raises(IDXFormatError) as info:
        read_idx(p)
    assert str(info.value).startswith(
        "train-images-idx3-ubyte: truncated: header says 60000x28x28 uint8 (47040000 bytes "
        "of data from offset 16), file holds 1000 bytes")


def test_trailing_raw_data(tmp_path):
    p = put(tmp_path / "x", header(0x08, [4]) + b"\1" * 6)
    with pytest.raises(IDXFormatError, match=r"x: trailing data: header says 4 uint8 "
                                             r"\(4 bytes of data from offset 8\), file holds 6"):
        read_idx(p)


def _forbid_allocation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"allocated {args} before validating the header")
    monkeypatch.setattr(np, "empty", refuse)


def test_huge_dims_refused_before_allocating_raw(tmp_path, monkeypatch):
    p = put(tmp_path / "huge", header(0x0E, [2**32 - 1] * 3) + b"\0" * 64)
    _forbid_allocation(monkeypatch)
    with pytest.raises(IDXFormatError, match=r"huge: truncated: header says "
                                             r"4294967295x4294967295x4294967295 float64"):
        read_idx(p)


def test_huge_dims_refused_before_allocating_gzip(tmp_path, monkeypatch):
    # Mismatch with the gzip trailer (ISIZE)
    p = put(tmp_path / "huge.gz", header(0x08, [10, 28, 28]) + b"\0" * 100, compress=True)
    # 65536 x 65536 uint8 = 2**32 bytes: ISIZE (mod 2**32) agrees, the deflate ratio cannot
    q = put(tmp_path / "wrap.gz", header(0x08, [65536, 65536]), compress=True)
    _forbid_allocation(monkeypatch)
    with pytest.raises(IDXFormatError, match=r"huge.gz: header says 10x28x28 uint8 .*"
                                             r"gzip trailer says the file decompresses to"):
        read_idx(p)
    with pytest.raises(IDXFormatError, match=r"wrap.gz: header says 65536x65536 uint8 "
                                             r"\(4294967296 bytes of data\), more than a"):
        read_idx(q)


def test_gzip_truncated_or_corrupt(tmp_path):
    data = header(0x08, [50, 28, 28]) + np.random.default_rng(1).bytes(50 * 784)
    blob = gzip.compress(data, mtime=0)
    cut = put(tmp_path / "cut.gz", blob[: len(blob) // 2])
    with pytest.raises(IDXFormatError, match=r"^cut.gz: "):
        read_idx(cut)
    flipped = bytearray(blob)
    flipped[-8] ^= 0xFF  # the CRC32 in the trailer
    bad = put(tmp_path / "crc.gz", bytes(flipped))
    with pytest.raises(IDXFormatError, match=r"^crc.gz: corrupt or truncated gzip data"):
        read_idx(bad)
    tiny = put(tmp_path / "tiny.gz", b"\x1f\x8b\x08")
    with pytest.raises(IDXFormatError, match=r"tiny.gz: truncated gzip file: 3 bytes"):
        read_idx(tiny)


def test_gzip_trailing_data(tmp_path):
    # header says 4 values, the stream holds 6: ISIZE disagrees with the header
    p = put(tmp_path / "t.gz", header(0x08, [4]) + b"\1" * 6, compress=True)
    with pytest.raises(IDXFormatError, match=r"t.gz: header says 4 uint8 .*gzip trailer"):
        read_idx(p)


def test_html_page_saved_under_an_idx_name(tmp_path):
    p = put(tmp_path / "train-labels-idx1-ubyte.gz", b"<html><body>Forbidden</body></html>")
    with pytest.raises(IDXFormatError, match=r"^train-labels-idx1-ubyte.gz: wrong magic.*HTML"):
        read_idx(p)


@pytest.mark.parametrize("name", ["big-idx3-ubyte", "big-idx3-ubyte.gz"])
def test_memory_efficient(tmp_path, name):
    """Peak memory while reading is the array plus a small constant (no full-size copy)."""
    n = 20000 * 28 * 28
    a = (np.arange(n, dtype=np.int64) % 251).astype(np.uint8).reshape(20000, 28, 28)
    write_idx(tmp_path / name, a)
    del a
    tracemalloc.start()
    try:
        b = read_idx(tmp_path / name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert b.nbytes == n
    assert peak - n < 2**21, f"peak {peak} bytes for a {n}-byte array"


def test_write_idx_refuses_unstorable(tmp_path):
    with pytest.raises(IDXFormatError, match=r"dtype bool cannot be stored in IDX"):
        write_idx(tmp_path / "b", np.zeros(3, bool))
    with pytest.raises(IDXFormatError, match=r"1 to 255 dimensions, got 0"):
        write_idx(tmp_path / "s", np.uint8(3))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_an_empty_array_whose_other_dims_overflow_is_refused(tmp_path, compress):
    """(2**32 - 1) x (2**31 + 1) x 0 holds no data, so the file's size agrees with its
    header, but no NumPy array has that shape: an IDXFormatError, not NumPy's ValueError."""
    p = put(tmp_path / "empty", header(0x08, [2**32 - 1, 2**31 + 1, 0]), compress=compress)
    with pytest.raises(IDXFormatError, match=r"empty: header says 4294967295x2147483649x0 "
                                             r"uint8: dimensions too large for an array"):
        read_idx(p)
    ok = put(tmp_path / "fine", header(0x08, [5, 0, 7]), compress=compress)
    assert read_idx(ok).shape == (5, 0, 7)   # an empty array of a describable shape reads
