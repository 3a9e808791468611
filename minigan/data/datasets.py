"""MNIST and Fashion-MNIST: where minigan looks for them, and how it downloads them.

Each split is a pair of IDX files (images ``(N, 28, 28)`` uint8, labels ``(N,)`` uint8)::

    train: train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
    test:  t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

(un-gzipped files without ``.gz`` are accepted too). Search order, first hit wins (both
files of the split must be in the same directory):

1. the directory given (``path=``, the CLI's ``--data DIR``), and ``DIR/<dataset>``;
2. ``$MINIGAN_DATA`` and ``$MINIGAN_DATA/<dataset>``;
3. the cache, ``~/.cache/minigan/<dataset>`` (``$XDG_CACHE_HOME/minigan`` if that is set;
   the module attribute ``CACHE_ROOT`` overrides both);
4. for Fashion-MNIST, Debian's ``dataset-fashion-mnist`` package directory
   (``DEBIAN_FASHION_DIR``);
5. with ``download=True``: the public mirrors (those torchvision, TensorFlow Datasets and
   Keras use), into the cache, checksum-verified and atomic (``download.py``).

Files found in a directory are not checksum-checked (they may be your own data in IDX
format); they are structurally validated by ``read_idx``. With ``embedded_fallback=True``
and nothing found, MNIST falls back to the sample embedded in the package
(``embedded.py``) and says so on stderr.
"""

import os
from pathlib import Path

from ..errors import ConfigError, MiniganError
from .download import DownloadError, download
from .embedded import load_embedded_mnist
from .idx import IDXFormatError, read_idx

__all__ = ["DataNotFoundError", "DATASETS", "SPLITS", "load_dataset", "load_mnist",
           "load_fashion_mnist", "find_split", "cache_dir"]

ENV_VAR = "MINIGAN_DATA"
CACHE_ROOT = None
"""The cache root; ``None`` means ``$XDG_CACHE_HOME/minigan`` or ``~/.cache/minigan``."""

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
            "http://yann.lecun.com/exdb/mnist/",                    # original (403 since 2024)
        ],
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


class DataNotFoundError(MiniganError, FileNotFoundError):
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


def search_dirs(name, path=None):
    """The directories searched for dataset ``name``, in order (they need not exist)."""
    dirs = []
    for root in (path, os.environ.get(ENV_VAR) or None):
        if root is not None:
            root = Path(os.path.expanduser(root))
            dirs += [root, root / name]
    dirs.append(cache_dir(name))
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


def read_pair(images_path, labels_path):
    """Read and cross-check an images file and a labels file; return (images, labels)."""
    try:
        images, labels = read_idx(images_path), read_idx(labels_path)
    except OSError as error:  # e.g. permission denied, a disk error
        raise DataNotFoundError(f"cannot read the data file {error.filename or images_path}: "
                                f"{error.strerror or error}", searched=[Path(images_path).parent],
                                reason=str(error)) from None
    if images.ndim != 3 or images.dtype.name != "uint8":
        raise IDXFormatError(f"{Path(images_path).name}: expected uint8 images (N, H, W), "
                             f"got {images.dtype.name} of shape {images.shape}")
    if labels.ndim != 1 or labels.dtype.name != "uint8":
        raise IDXFormatError(f"{Path(labels_path).name}: expected uint8 labels (N,), "
                             f"got {labels.dtype.name} of shape {labels.shape}")
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
            present = download([base + file for base in info["mirrors"]], target / file,
                               sha256, size=size, progress=progress)
        paths.append(present)
    return paths


def load_dataset(name, split="train", path=None, download=True, embedded_fallback=False,
                 progress=True):
    """Load a split of ``"mnist"`` or ``"fashion-mnist"``: ``(images, labels)``.

    ``images`` is uint8 ``(N, 28, 28)``, ``labels`` uint8 ``(N,)`` (raw pixel values;
    see ``to_unit_range`` and ``Batches`` for training). Searches ``path``,
    ``$MINIGAN_DATA``, the cache (and Debian's directory for Fashion-MNIST), then
    downloads into the cache when ``download`` is true. Raises ``DataNotFoundError``
    (listing the places searched and each mirror's failure) when nothing is found, unless
    ``embedded_fallback`` is true and ``name`` is ``"mnist"``: then the 5,000-digit sample
    shipped in the package is returned, for any split, with a line on stderr saying so.
    Raises ``IDXFormatError`` if a file found is malformed.
    """
    _check(name, split)
    if path is not None and not Path(os.path.expanduser(path)).is_dir():
        raise DataNotFoundError(f"{DATASETS[name]['title']}: the data directory {path} does "
                                "not exist or is not a directory (expected a directory "
                                f"holding {', '.join(s + '.gz' for s in SPLITS[split])})",
                                searched=[Path(path)], reason="no such directory")
    found, searched = find_split(name, split, path)
    if found is not None:
        return read_pair(*found)
    title = DATASETS[name]["title"]
    if download:
        try:
            return read_pair(*_download_split(name, split, progress))
        except DownloadError as exc:
            reason = f"the download failed: {exc}"
            brief = f"the download failed: {'; '.join(exc.failures) or exc}"
    else:
        reason = brief = "downloading was not allowed"
    if embedded_fallback and name == "mnist":
        return load_embedded_mnist(searched=searched, reason=brief)
    where = "\n  ".join(map(str, searched))
    files = ", ".join(stem + "[.gz]" for stem in SPLITS[split])
    raise DataNotFoundError(
        f"{title} {split} split not found: no directory holds {files}. Searched:\n  {where}\n"
        f"and {reason}. Pass the directory holding the files (--data DIR), set "
        f"{ENV_VAR}=DIR, or allow the download.", searched=searched, reason=reason)


def load_mnist(split="train", path=None, download=True, **kwargs):
    """MNIST ``(images uint8 (N, 28, 28), labels uint8 (N,))``; see ``load_dataset``."""
    return load_dataset("mnist", split, path, download, **kwargs)


def load_fashion_mnist(split="train", path=None, download=True, **kwargs):
    """Fashion-MNIST ``(images uint8 (N, 28, 28), labels uint8 (N,))``; see ``load_dataset``."""
    return load_dataset("fashion-mnist", split, path, download, **kwargs)
