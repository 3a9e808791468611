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
from minigan.data import datasets
from minigan.data import DataNotFoundError, IDXFormatError, write_idx
from minigan.errors import ConfigError
from minigan.errors import MiniganError

TRAIN = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
UNREACHABLE = "http://127.0.0.1:1/"  # connection refused at once


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no $MINIGAN_DATA, no Debian directory, no real mirrors."""
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
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
    (tmp_path / "empty").mkdir()  # an existing directory without the files: search on
    assert loaded_fill("fashion-mnist", path=str(tmp_path / "empty")) == 5  # then the rest


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
    (tmp_path / "a").mkdir()
    write_idx(tmp_path / "a" / (TRAIN[0] + ".gz"), np.zeros((2, 28, 28), np.uint8))
    make_split(tmp_path / "cache" / "mnist", 3, 6)
    assert loaded_fill(path=tmp_path / "a") == 6


def test_not_found_lists_places_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    with pytest.raises(DataNotFoundError) as info:
        (tmp_path / "given").mkdir(exist_ok=True)
        data.load_mnist(path=tmp_path / "given", download=False)
    err = info.value
    assert isinstance(err, FileNotFoundError) and isinstance(err, MiniganError)
    msg = str(err)
    assert msg.startswith("MNIST train split not found")
    for place in (tmp_path / "given", tmp_path / "env", tmp_path / "env" / "mnist",
                  tmp_path / "cache" / "mnist"):
        assert str(place) in msg and place in err.searched
    assert "downloading was not allowed" in msg and "MINIGAN_DATA" in msg


def test_count_mismatch_is_a_clear_error(tmp_path):
    make_split(tmp_path, 5, 1, n_labels=4)
    with pytest.raises(IDXFormatError, match=r"train-images-idx3-ubyte.gz holds 5 images but "
                                             r"train-labels-idx1-ubyte.gz holds 4 labels"):
        data.load_mnist(path=tmp_path, download=False)


def test_labels_file_in_place_of_images(tmp_path):
    write_idx(tmp_path / (TRAIN[0] + ".gz"), np.zeros(5, np.uint8))
    write_idx(tmp_path / (TRAIN[1] + ".gz"), np.zeros(5, np.uint8))
    with pytest.raises(IDXFormatError, match=r"expected uint8 images \(N, H, W\), got uint8 "
                                             r"of shape \(5,\)"):
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
    err = capsys.readouterr().err
    assert "EMBEDDED SAMPLE of MNIST: 5,000 real MNIST digits" in err
    assert str(tmp_path / "cache" / "mnist") in err
    assert "--data DIR" in err and "MINIGAN_DATA" in err and "download" in err
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

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(datasets, "read_idx", denied)
    with pytest.raises(DataNotFoundError, match=r"cannot read the data file .*"
                                                r"train-images-idx3-ubyte.gz: Permission denied"):
        datasets.load_dataset("mnist", "train", str(tmp_path))
