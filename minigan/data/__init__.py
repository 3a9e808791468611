"""Data: the IDX reader, MNIST and Fashion-MNIST loaders, download, the embedded sample,
shuffled NHWC mini-batches in [-1, 1], and the 2-D Gaussian mixtures of the mode-collapse
benchmark (``mixtures.py``: ``gaussian_ring``, ``gaussian_grid``).

::

    from minigan import data
    images, labels = data.load_mnist("train")            # uint8 (60000, 28, 28), (60000,)
    images, labels = data.load_dataset("mnist", path="~/mnist", embedded_fallback=True)
    for x, y in data.Batches(images, labels, batch_size=64, seed=0):
        ...                                              # x: float32 (64, 28, 28, 1) in [-1, 1]

Where the files are looked for, and how they are downloaded: ``datasets.py``.
"""

from .batches import Batches, to_unit_range
from .datasets import (
    MAX_IMAGES,
    DataNotFoundError,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
)
from .download import DownloadError
from .embedded import load_embedded_mnist
from .idx import IDXFormatError, read_idx, write_idx
from .mixtures import (
    GRID,
    GRID_MEANS,
    GRID_STD,
    MIXTURES,
    RING,
    RING_MEANS,
    RING_STD,
    Mixture,
    gaussian_grid,
    gaussian_ring,
)

__all__ = [
    "Batches",
    "DataNotFoundError",
    "DownloadError",
    "GRID",
    "GRID_MEANS",
    "GRID_STD",
    "IDXFormatError",
    "MAX_IMAGES",
    "MIXTURES",
    "Mixture",
    "RING",
    "RING_MEANS",
    "RING_STD",
    "gaussian_grid",
    "gaussian_ring",
    "load_dataset",
    "load_embedded_mnist",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "to_unit_range",
    "write_idx",
]
