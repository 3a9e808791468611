"""Where MNIST / Fashion-MNIST are looked for, downloading into the cache, the embedded
sample. No test touches the network: mirrors point at loopback."""

import gzip
import hashlib
import os
import struct

import numpy as np
import pytest
from test_data_download import serve

from minigan import data
from minigan.data import DataNotFoundError, IDXFormatError, datasets, write_idx
from minigan.errors import ConfigError, MiniganError

TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
UNREACHABLE = "http://127.0.0.1:1/"  # connection refused at once


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no $MINIGAN_DATA, no Debian directory, no real mirrors."""
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.delenv("MINIGAN_OFFLINE", raising=False)
    monkeypatch.setattr(datasets, "CACHE_ROOT", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_DIR", str(tmp_path / "debian"))
    for name in datasets.DATASETS:
        monkeypatch.setitem(datasets.DATASETS[name], "mirrors", [UNREACHABLE])


def make_split(directory, n, fill, stems=TRAIN, gz=True, n_labels=None):
    """Write a small split whose pixels all equal ``fill`` (to tell locations apart)."""
    os.makedirs(directory, exist_ok=True)
    suffix = ".gz" if gz else ""
    write_idx(os.path.join(directory, stems[0] + suffix), np.full((n, 28, 28), fill, np.uint8))
    labels = np.arange(n if n_labels is None else n_labels, dtype=np.uint8) % 10
    write_idx(os.path.join(directory, stems[1] + suffix), labels)


def loaded_fill(name="mnist", **kwargs):
    images, labels = data.load_dataset(name, download=False, **kwargs)
    assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
    assert labels.dtype == np.uint8 and labels.shape == (len(images),)
    return int(images[0, 0, 0])


def test_search_order(tmp_path, monkeypatch):
    """With no directory named: the cache, then Debian's directory (Fashion-MNIST only).
    A named directory -- --data (path=) before $MINIGAN_DATA -- is the only place tried:
    DIR itself, then DIR/<dataset>."""
    given, env = tmp_path / "given", tmp_path / "env"
    make_split(tmp_path / "debian", 3, 4)
    assert loaded_fill("fashion-mnist") == 4  # Debian's directory, for Fashion-MNIST only
    with pytest.raises(DataNotFoundError):
        loaded_fill("mnist")
    make_split(tmp_path / "cache" / "fashion-mnist", 3, 3)
    assert loaded_fill("fashion-mnist") == 3  # the cache comes before Debian's directory
    make_split(env / "fashion-mnist", 3, 2)  # $MINIGAN_DATA/<dataset>
    monkeypatch.setenv("MINIGAN_DATA", str(env))
    assert loaded_fill("fashion-mnist") == 2
    make_split(env, 3, 5)  # $MINIGAN_DATA itself comes before its subdirectory
    assert loaded_fill("fashion-mnist") == 5
    make_split(given, 3, 1)
    assert loaded_fill("fashion-mnist", path=given) == 1  # the directory given comes first


@pytest.mark.parametrize("how", ["--data", "$MINIGAN_DATA"])
@pytest.mark.parametrize("state", ["missing", "empty", "other files"])
def test_a_named_directory_without_the_split_is_an_error_not_a_fallback(
        tmp_path, monkeypatch, how, state):
    """One rule for --data and $MINIGAN_DATA: a named directory that does not exist, is
    empty, or holds other files is an error, even with the cache and the embedded
    sample at hand; nothing else is tried."""
    make_split(tmp_path / "cache" / "mnist", 3, 6)
    named = tmp_path / "named"
    if state != "missing":
        named.mkdir()
    if state == "other files":
        make_split(named, 3, 1, stems=TEST)
        (named / "README").write_text("my notes")
    path = None
    if how == "--data":
        path = str(named)
    else:
        monkeypatch.setenv("MINIGAN_DATA", str(named))
    expected = (r"does not exist or is not a directory" if state == "missing"
                else r"holds no train split: expected train-images-idx3-ubyte.gz and "
                     r"train-labels-idx1-ubyte.gz")
    with pytest.raises(DataNotFoundError, match=expected) as info:
        datasets.load_dataset("mnist", "train", path, embedded_fallback=True)
    assert str(named) in str(info.value) and "\n" not in str(info.value)
    assert ("(from $MINIGAN_DATA)" in str(info.value)) == (how == "$MINIGAN_DATA")


def test_raw_files_and_splits(tmp_path):
    make_split(tmp_path / "d", 4, 7, gz=False)
    make_split(tmp_path / "d", 2, 9, stems=TEST, gz=True)
    images, labels = data.load_mnist("train", path=tmp_path / "d", download=False)
    assert images.shape == (4, 28, 28) and labels.tolist() == [0, 1, 2, 3]
    images, _ = data.load_mnist("test", path=tmp_path / "d", download=False)
    assert images.shape == (2, 28, 28) and images[0, 0, 0] == 9
    with pytest.raises(ConfigError, match=r"unknown split 'valid'"):
        data.load_mnist("valid", path=tmp_path / "d")
    with pytest.raises(ConfigError, match=r"unknown dataset 'cifar'"):
        data.load_dataset("cifar")


def test_files_of_a_split_are_not_mixed_across_directories(tmp_path):
    (tmp_path / "a" / "mnist").mkdir(parents=True)
    write_idx(tmp_path / "a" / (TRAIN[0] + ".gz"), np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "a" / "mnist" / (TRAIN[1] + ".gz"), np.zeros(2, np.uint8))
    with pytest.raises(DataNotFoundError, match="holds no train split"):
        loaded_fill(path=tmp_path / "a")
    make_split(tmp_path / "cache" / "fashion-mnist", 3, 6)  # the cache holds a whole split
    os.remove(tmp_path / "cache" / "fashion-mnist" / (TRAIN[1] + ".gz"))
    make_split(tmp_path / "debian", 3, 4, stems=(TRAIN[0] + "x", TRAIN[1]))  # labels only
    with pytest.raises(DataNotFoundError, match="Fashion-MNIST train split not found"):
        loaded_fill("fashion-mnist")


def test_not_found_lists_places_searched(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        data.load_mnist(download=False)
    err = info.value
    assert isinstance(err, FileNotFoundError) and isinstance(err, MiniganError)
    msg = str(err)
    assert msg.startswith("MNIST train split not found") and "\n" not in msg
    place = tmp_path / "cache" / "mnist"
    assert str(place) in msg and err.searched == [place]
    assert "downloading was not allowed" in msg and "MINIGAN_DATA" in msg


def test_count_mismatch_is_a_clear_error(tmp_path):
    make_split(tmp_path, 5, 1, n_labels=4)
    with pytest.raises(IDXFormatError, match=r"train-images-idx3-ubyte.gz holds 5 images but "
                                             r"train-labels-idx1-ubyte.gz holds 4 labels"):
        data.load_mnist(path=tmp_path, download=False)


def test_labels_file_in_place_of_images(tmp_path):
    write_idx(tmp_path / (TRAIN[0] + ".gz"), np.zeros(5, np.uint8))
    write_idx(tmp_path / (TRAIN[1] + ".gz"), np.zeros(5, np.uint8))
    with pytest.raises(IDXFormatError, match=r"train-images-idx3-ubyte.gz: header says 5 "
                                             r"uint8; expected uint8 images \(Nx28x28\)"):
        data.load_mnist(path=tmp_path, download=False)


def _idx_bytes(array):
    head = struct.pack(">HBB", 0, 0x08, array.ndim)
    return head + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _published(n):
    """Small gzip IDX files standing in for the published ones: (images, labels, blobs)."""
    images = np.random.default_rng(n).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    blobs = {stem + ".gz": gzip.compress(_idx_bytes(array), mtime=0)
             for stem, array in zip(TRAIN, (images, labels))}
    return images, labels, blobs


def test_download_into_cache_with_fallback(tmp_path, monkeypatch):
    images, labels, blobs = _published(20)
    files = {name: (hashlib.sha256(b).hexdigest(), len(b)) for name, b in blobs.items()}
    with serve(blobs) as (base, hits):
        monkeypatch.setitem(datasets.DATASETS["mnist"], "files", files)
        monkeypatch.setitem(datasets.DATASETS["mnist"], "mirrors",
                            [f"{base}/half/", f"{base}/html/", f"{base}/good/"])
        got_images, got_labels = data.load_mnist("train", progress=False)
        np.testing.assert_array_equal(got_images, images)
        np.testing.assert_array_equal(got_labels, labels)
        cache = tmp_path / "cache" / "mnist"
        assert sorted(os.listdir(cache)) == sorted(blobs)  # no partial or temp file
        hits.clear()
        data.load_mnist("train")  # now served from the cache
        assert hits == []


def test_download_fails_everywhere(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"(?s)the download failed: could not download "
                                                r"train-images-idx3-ubyte.gz.*127.0.0.1:1"):
        data.load_mnist("train", progress=False)
    assert not any((tmp_path / "cache").rglob("*.part"))


@pytest.mark.parametrize("download", [False, True])
def test_embedded_fallback_says_so(tmp_path, capsys, download):
    images, labels = data.load_mnist("train", download=download, embedded_fallback=True,
                                     progress=False)
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    lines = capsys.readouterr().err.strip().splitlines()
    if download:  # the line saying what is tried, then the notice
        assert lines.pop(0).startswith("minigan: MNIST train split not in ")
    assert len(lines) == 2, lines
    cache = tmp_path / "cache" / "mnist"
    assert lines[0].startswith("minigan: using the embedded MNIST sample (5,000 real digits, "
                               f"500 per class): no MNIST files in {cache};")
    assert lines[0].endswith("the download failed (127.0.0.1: cannot connect: [Errno 111] "
                             "Connection refused)." if download else
                             "downloading was not allowed.")
    assert lines[1] == ("  For the full 60,000: put {train,t10k}-{images-idx3,labels-idx1}-ubyte"
                        f".gz in {tmp_path / 'cache' / 'mnist'}, or pass --data DIR / set "
                        "MINIGAN_DATA=DIR; --data embedded asks for the sample and skips the "
                        "search.")
    with data.embedded.notice_once():      # a run: told once, whatever it loads
        for split in ("train", "test", "train"):
            data.load_mnist(split, download=download, embedded_fallback=True, progress=False)
    assert capsys.readouterr().err.count("using the embedded MNIST sample") == 1
    # Fashion-MNIST has no embedded stand-in
    with pytest.raises(DataNotFoundError):
        data.load_fashion_mnist(download=False, embedded_fallback=True)


def test_embedded_sample_content():
    images, labels = data.load_embedded_mnist(quiet=True)
    assert images.dtype == np.uint8 and labels.dtype == np.uint8
    assert images.max() == 255 and images.min() == 0
    # real digits: blank borders, ink in the centre, tens to hundreds of lit pixels each
    assert images[:, [0, -1], :].mean() < 1 and images[:, :, [0, -1]].mean() < 1
    assert images[:, 10:18, 10:18].mean() > 50
    lit = (images > 0).sum(axis=(1, 2))
    assert 40 < lit.min() and lit.max() < 500
    assert os.path.getsize(data.embedded.EMBEDDED_PATH) < 1_000_000


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist(monkeypatch):
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_DIR", "/usr/share/datasets/fashion-mnist")
    images, labels = data.load_fashion_mnist("test", download=False)
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert np.bincount(labels).tolist() == [1000] * 10


def test_a_data_directory_that_does_not_exist_is_an_error_not_a_fallback(tmp_path):
    missing = tmp_path / "no-such-dir"
    with pytest.raises(DataNotFoundError, match=r"no-such-dir does not exist or is not a "
                                                r"directory .*train-images-idx3-ubyte.gz"):
        datasets.load_dataset("mnist", "train", str(missing), embedded_fallback=True)


def test_an_unreadable_data_file_is_a_clear_error(tmp_path, monkeypatch):
    for stem in datasets.SPLITS["train"]:
        (tmp_path / (stem + ".gz")).write_bytes(b"")

    def denied(path, accept=None):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(datasets, "read_idx", denied)
    with pytest.raises(DataNotFoundError, match=r"cannot read the data file .*"
                                                r"train-labels-idx1-ubyte.gz: Permission denied"):
        datasets.load_dataset("mnist", "train", str(tmp_path))


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("header, expected", [
    ((2_000_000, 28, 28), r"header says 2000000x28x28 uint8; expected at most 1,000,000 images"),
    ((5, 32, 32), r"header says 5x32x32 uint8; expected uint8 images \(Nx28x28\) \(MNIST and "
                  r"Fashion-MNIST images are 28x28, and minigan's models take 28x28\)"),
    ((5, 28, 28, 1), r"header says 5x28x28x1 uint8; expected uint8 images \(Nx28x28\)"),
])
def test_image_headers_are_checked_before_any_data_is_read(tmp_path, gz, header, expected):
    """The images file's header is held against what MNIST-like data is (uint8 28x28, at
    most MAX_IMAGES) before any data is read: a file claiming 2 million images is refused
    for that -- not read, and not merely found short -- and 32x32 images are refused at
    loading, not deep inside the model. (The data here is a few bytes: the check must
    come first for the expected message to appear.)"""
    import tracemalloc

    raw = struct.pack(">HBB", 0, 0x08, len(header)) + struct.pack(f">{len(header)}I", *header)
    raw += bytes(1000)
    images = tmp_path / (TRAIN[0] + (".gz" if gz else ""))
    images.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    write_idx(tmp_path / (TRAIN[1] + ".gz"), np.zeros(5, np.uint8))
    tracemalloc.start()
    try:
        with pytest.raises(IDXFormatError, match=expected):
            data.load_mnist(path=tmp_path, download=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak


def test_a_labels_header_claiming_too_many_is_refused(tmp_path):
    make_split(tmp_path, 3, 1)
    raw = struct.pack(">HBBI", 0, 0x08, 1, 1_000_001)
    (tmp_path / (TRAIN[1] + ".gz")).write_bytes(gzip.compress(raw + bytes(10), mtime=0))
    with pytest.raises(IDXFormatError, match=r"train-labels-idx1-ubyte.gz: header says 1000001 "
                                             r"uint8; expected at most 1,000,000 labels"):
        data.load_mnist(path=tmp_path, download=False)
