"""MNIST and Fashion-MNIST: where minigan looks for them, and how it downloads them.

Each split is a pair of IDX files (images ``(N, 28, 28)`` uint8, labels ``(N,)`` uint8)::

    train: train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
    test:  t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

(un-gzipped files without ``.gz`` are accepted too). Where they are looked for (both
files of the split must be in the same directory):

* **a directory you name** -- ``path=`` (the CLI's ``--data DIR``), or else
  ``$MINIGAN_DATA`` -- is where the data must be: ``DIR`` itself or ``DIR/<dataset>``.
  If it does not exist or holds neither, that is an error (``DataNotFoundError``); nothing
  else is tried, so a typo never trains silently on other data;
* with no directory named: the cache, ``~/.cache/minigan/<dataset>``
  (``$XDG_CACHE_HOME/minigan`` if that is set; the module attribute ``CACHE_ROOT``
  overrides both); for Fashion-MNIST, Debian's ``dataset-fashion-mnist`` package directory
  (``DEBIAN_FASHION_DIR``); with ``download=True``, the public mirrors (those torchvision,
  TensorFlow Datasets and Keras use), into the cache, checksum-verified and atomic
  (``download.py``); and with ``embedded_fallback=True``, for MNIST, the sample embedded
  in the package (``embedded.py``), saying so on stderr.

Files found in a directory are not checksum-checked (they may be your own data in IDX
format); they are structurally validated by ``read_idx``, and their headers are checked
before any data is read: images must be uint8 ``(N, 28, 28)`` (what MNIST and
Fashion-MNIST are, and what minigan's models take) and labels uint8 ``(N,)``, with N at
most ``MAX_IMAGES``.
"""

import os
import sys
from pathlib import Path

from ..errors import ConfigError, InputError
from . import download as _download_module
from . import offline
from .download import DownloadError, download
from .embedded import load_embedded_mnist
from .idx import IDXFormatError, read_idx

__all__ = ["DataNotFoundError", "DATASETS", "SPLITS", "MAX_IMAGES", "load_dataset",
           "load_mnist", "load_fashion_mnist", "find_split", "cache_dir", "load_with_source"]

ENV_VAR = "MINIGAN_DATA"
CACHE_ROOT = None
"""The cache root; ``None`` means ``$XDG_CACHE_HOME/minigan`` or ``~/.cache/minigan``."""

IMAGE_SIZE = (28, 28)
"""Height and width of every MNIST and Fashion-MNIST image, and what the models take."""

MAX_IMAGES = 1_000_000
"""The most images (or labels) a split may hold. The largest MNIST-like set, EMNIST
ByClass, has 814,255; a million 28x28 images take 0.78 GB as uint8 and 3.1 GB once
converted to float32 for training, so a header claiming more is refused before any of it
is read (a 1 MB gzip file can honestly claim a gigabyte of zeros)."""

DEBIAN_FASHION_DIR = "/usr/share/datasets/fashion-mnist"
"""Where Debian's ``dataset-fashion-mnist`` package installs the four files."""

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

DATASETS = {
    "mnist": {
        "title": "MNIST",
        "mirrors": [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",      # torchvision
            "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow Datasets
        ],  # (the original, yann.lecun.com/exdb/mnist/, has answered 403 since 2024)
        # file name -> (SHA-256, size in bytes) of the published .gz files
        "files": {
            "train-images-idx3-ubyte.gz": (
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
            "train-labels-idx1-ubyte.gz": (
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
            "t10k-images-idx3-ubyte.gz": (
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
            "t10k-labels-idx1-ubyte.gz": (
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
        },
    },
    "fashion-mnist": {
        "title": "Fashion-MNIST",
        "mirrors": [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",   # torchvision
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras
        ],
        "files": {
            "train-images-idx3-ubyte.gz": (
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
            "train-labels-idx1-ubyte.gz": (
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
            "t10k-images-idx3-ubyte.gz": (
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
            "t10k-labels-idx1-ubyte.gz": (
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
        },
    },
}


class DataNotFoundError(InputError, FileNotFoundError):
    """The dataset's files are nowhere minigan looked, and could not be downloaded.

    ``searched`` lists the directories tried; ``reason`` says why no download happened.
    """

    def __init__(self, message, searched=(), reason=None):
        super().__init__(message)
        self.searched = list(searched)
        self.reason = reason

    def __str__(self):
        return self.args[0]


def cache_dir(name):
    """The cache directory of dataset ``name`` (``~/.cache/minigan/<name>`` by default)."""
    root = CACHE_ROOT
    if root is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
        root = os.path.join(base, "minigan")
    return Path(root) / name


def _check(name, split):
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}: expected one of {sorted(DATASETS)}")
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}: expected 'train' or 'test'")


def named_dir(path=None):
    """(the directory the caller named, where the name came from), or (None, None):
    ``path`` (the CLI's ``--data``), else ``$MINIGAN_DATA``; (None, None) too when they
    ask for the embedded sample (``--data embedded``)."""
    if offline.wants_embedded(path):
        return None, None
    if path is not None:
        return Path(os.path.expanduser(path)), "--data"
    if os.environ.get(ENV_VAR):
        return Path(os.path.expanduser(os.environ[ENV_VAR])), f"${ENV_VAR}"
    return None, None


def search_dirs(name, path=None):
    """The directories searched for dataset ``name``, in order (they need not exist):
    ``DIR`` and ``DIR/<name>`` for a named directory, else the cache (and Debian's
    directory for Fashion-MNIST)."""
    named, _ = named_dir(path)
    if named is not None:
        return [named, named / name]
    dirs = [cache_dir(name)]
    if name == "fashion-mnist":
        dirs.append(Path(DEBIAN_FASHION_DIR))
    return dirs


def _find_in(directory, stem):
    for candidate in (directory / (stem + ".gz"), directory / stem):
        if candidate.is_file():
            return candidate
    return None


def find_split(name, split="train", path=None):
    """Return ``((images_path, labels_path) or None, directories searched)``."""
    _check(name, split)
    searched = search_dirs(name, path)
    for directory in searched:
        found = [_find_in(directory, stem) for stem in SPLITS[split]]
        if all(found):
            return tuple(found), searched
    return None, searched


def _expect(kind, shape):
    """An ``accept`` check for ``read_idx``: uint8 arrays of ``shape`` (None: any N up to
    MAX_IMAGES), described for the error message as ``kind``."""
    def accept(dims, dtype):
        want = "x".join("N" if d is None else str(d) for d in shape)
        if (dtype.name != "uint8" or len(dims) != len(shape)
                or any(w is not None and w != d for w, d in zip(shape, dims))):
            return f"expected uint8 {kind} ({want}){_SIZE_NOTE if kind == 'images' else ''}"
        if dims[0] > MAX_IMAGES:
            return (f"expected at most {MAX_IMAGES:,} {kind} (minigan.data.MAX_IMAGES: the "
                    f"largest MNIST-like set has 814,255), got {dims[0]:,}")
        return None
    return accept


_SIZE_NOTE = " (MNIST and Fashion-MNIST images are 28x28, and minigan's models take 28x28)"


def read_pair(images_path, labels_path):
    """Read and cross-check an images file and a labels file; return (images, labels).
    Each header is checked (uint8 labels (N,), uint8 images (N, 28, 28), N at most
    ``MAX_IMAGES``) before that file's data is read."""
    try:
        labels = read_idx(labels_path, accept=_expect("labels", (None,)))
        images = read_idx(images_path, accept=_expect("images", (None,) + IMAGE_SIZE))
    except OSError as error:  # e.g. permission denied, a disk error
        raise DataNotFoundError(f"cannot read the data file {error.filename or images_path}: "
                                f"{error.strerror or error}", searched=[Path(images_path).parent],
                                reason=str(error)) from None
    if len(images) != len(labels):
        raise IDXFormatError(f"{Path(images_path).name} holds {len(images)} images but "
                             f"{Path(labels_path).name} holds {len(labels)} labels "
                             f"({images_path}, {labels_path})")
    return images, labels


def _download_split(name, split, progress):
    info = DATASETS[name]
    target = cache_dir(name)
    paths = []
    for stem in SPLITS[split]:
        present = _find_in(target, stem)
        if present is None:
            file = stem + ".gz"
            sha256, size = info["files"][file]
            if not paths:  # say what is tried before the first file (the largest)
                print(offline.attempt_line(info["title"], split, target, info["mirrors"],
                                           size, _download_module.CONNECT_TIMEOUT),
                      file=sys.stderr, flush=True)
            present = download([base + file for base in info["mirrors"]], target / file,
                               sha256, size=size, progress=progress)
        paths.append(present)
    return paths


def load_dataset(name, split="train", path=None, download=True, embedded_fallback=False,
                 progress=True, embedded_split=False):
    """Load a split of ``"mnist"`` or ``"fashion-mnist"``: ``(images, labels)``.

    ``images`` is uint8 ``(N, 28, 28)``, ``labels`` uint8 ``(N,)`` (raw pixel values;
    see ``to_unit_range`` and ``Batches`` for training). A named directory (``path``, else
    ``$MINIGAN_DATA``) must hold the split, or ``DataNotFoundError`` is raised;
    ``path="embedded"`` is the embedded MNIST sample (``offline.py``). With none named:
    the cache (and Debian's directory for Fashion-MNIST), then a download into the cache
    when ``download`` is true and downloads are not off (``MINIGAN_OFFLINE=1``) and none
    failed in the last hour (``offline.py``); when nothing is found,
    ``DataNotFoundError`` (listing the places searched and why nothing was downloaded),
    unless ``embedded_fallback`` is true and ``name`` is ``"mnist"``: then the 5,000-digit
    sample shipped in the package is returned, for any split, with two lines on stderr
    saying so (with ``embedded_split``, only the split's part of it: 4,500 training or
    500 held-out test digits). Raises ``IDXFormatError`` if a file found is malformed or
    not uint8 28x28 images (or uint8 labels) of at most ``MAX_IMAGES``.
    """
    return load_with_source(name, split, path, download, embedded_fallback, progress,
                            embedded_split)[:2]


def load_with_source(name, split="train", path=None, download=True, embedded_fallback=False,
                     progress=True, embedded_split=False):
    """``load_dataset``, and where the data came from: ``(images, labels, source)``, where
    ``source`` (what a run records in config.json and summary.json) is a dict:
    ``"source"`` -- "embedded sample", "directory" or "download" --, ``"path"`` (the
    directory; None for the embedded sample), ``"images"`` (how many) and ``"how"`` (how
    it was chosen: "--data", "$MINIGAN_DATA", "the cache", ..., or why the sample)."""
    _check(name, split)
    title = DATASETS[name]["title"]
    if offline.wants_embedded(path):
        if name != "mnist":
            raise DataNotFoundError(f"--data {offline.EMBEDDED}: only MNIST has an embedded "
                                    f"sample, not {title}", reason="no embedded sample")
        asked = "--data embedded" if path is not None else "MINIGAN_DATA=embedded"
        part = split if embedded_split else None
        return _sourced(load_embedded_mnist(reason=f"as {asked} asks", asked=True, split=part),
                        "embedded sample", None, f"asked for ({asked})")
    named, source = named_dir(path)
    if named is not None:
        found = _in_named_dir(name, split, named, source)
        return _sourced(read_pair(*found), "directory", found[0].parent, source)
    found, searched = find_split(name, split)
    if found is not None:
        where = ("Debian's dataset-fashion-mnist" if found[0].parent == Path(DEBIAN_FASHION_DIR)
                 else "the cache")
        return _sourced(read_pair(*found), "directory", found[0].parent, where)
    cache = cache_dir(name)
    reason = brief = offline.no_download_reason(download, cache)
    if reason is None:
        try:
            paths = _download_split(name, split, progress)
        except DownloadError as exc:
            offline.remember_failure(cache, exc.failures)
            reason = f"the download failed: {exc}"
            brief = offline.failure_summary(exc.failures)
        else:
            offline.forget_failure(cache)
            return _sourced(read_pair(*paths), "download", cache, "downloaded into the cache")
    if embedded_fallback and name == "mnist":
        return _sourced(load_embedded_mnist(searched=searched, reason=brief,
                                            split=split if embedded_split else None),
                        "embedded sample", None, f"no MNIST files found; {brief}")
    where = ", ".join(map(str, searched))
    files = ", ".join(stem + "[.gz]" for stem in SPLITS[split])
    debian = (f", or install Debian's dataset-fashion-mnist (apt-get install "
              f"dataset-fashion-mnist: the files in {DEBIAN_FASHION_DIR})"
              if name == "fashion-mnist" else "")
    raise DataNotFoundError(
        f"{title} {split} split not found: no directory holds {files}. Searched: {where}; "
        f"and {reason}. Put the files in {cache}, pass their directory (--data DIR) or set "
        f"{ENV_VAR}=DIR{debian}.", searched=searched, reason=reason)


def _sourced(pair, kind, directory, how):
    images, labels = pair
    return images, labels, {"source": kind, "path": None if directory is None else str(directory),
                            "images": int(len(images)), "how": how}


def _in_named_dir(name, split, directory, source):
    """(images path, labels path) of the split in the directory the caller named (``DIR``
    or ``DIR/<name>``); a ``DataNotFoundError`` if it is not there."""
    title = DATASETS[name]["title"]
    files = " and ".join(stem + ".gz" for stem in SPLITS[split])
    origin = f" (from {source})" if source.startswith("$") else ""
    if not directory.is_dir():
        raise DataNotFoundError(f"{title}: the data directory {directory}{origin} does not "
                                f"exist or is not a directory (expected a directory holding "
                                f"{files})", searched=[directory], reason="no such directory")
    found, searched = find_split(name, split, directory)
    if found is None:
        raise DataNotFoundError(
            f"{title}: the data directory {directory}{origin} holds no {split} split: "
            f"expected {files} (or the same without .gz) in {directory} or "
            f"{directory / name}; nothing else is tried when a data directory is named",
            searched=searched, reason="not in the named directory")
    return found


def load_mnist(split="train", path=None, download=True, **kwargs):
    """MNIST ``(images uint8 (N, 28, 28), labels uint8 (N,))``; see ``load_dataset``."""
    return load_dataset("mnist", split, path, download, **kwargs)


def load_fashion_mnist(split="train", path=None, download=True, **kwargs):
    """Fashion-MNIST ``(images uint8 (N, 28, 28), labels uint8 (N,))``; see ``load_dataset``."""
    return load_dataset("fashion-mnist", split, path, download, **kwargs)
