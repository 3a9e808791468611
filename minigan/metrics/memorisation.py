"""Memorisation: does a generator hand back its training images?

A scored generator can look perfect by copying: its samples are real digits. The test
is how close each sample comes to the training set, measured against how close real
digits the generator never saw come to it. For each image, take the pixel (Euclidean)
distance to its nearest training image. The held-out digits' distances give the scale:
a sample counts as a *copy* when its distance is below the 1st percentile of the
held-out digits' distances -- closer to some training digit than 99% of fresh real
digits come. Then

    copy_fraction = fraction of samples that are copies

is near 1 for a generator that returns training digits (distance 0, or a few noisy
pixels), and near 0.01 for one that makes new digits, as for held-out digits
themselves (by construction 1% of them fall below their own 1st percentile).

What it does not tell: a generator that makes one good new digit over and over (mode
collapse) has a copy fraction near 0; precision and recall (``precision_recall``) and
the class histogram see that. Pixel distance only catches near-exact copies: a copy
shifted by a pixel is far in pixel space.

Images in [-1, 1]: (N, 28, 28) or NHWC (N, H, W, C), any backend ((N, H, W) is read as
(N, H, W, 1)); the three sets must have the same image shape. The searches run on the
active backend in float64, in bounded memory (``neighbours``). The training set is
compared with every sample and every held-out digit: 2,000 samples against the 60,000
MNIST training digits is a (2,000 x 784) x (784 x 60,000) product, seconds on a CPU.
"""

import numpy

from ..errors import ConfigError, ShapeError
from .neighbours import as_points, nearest

COPY_PERCENTILE = 1.0
"""A sample closer to the training set than this percentile of the held-out digits'
distances is a copy."""


def _image_shape(x, what):
    """The (H, W, C) of images (N, H, W) (C = 1) or (N, H, W, C)."""
    if x.ndim not in (3, 4):
        raise ShapeError(f"memorisation: {what}: expected images (N, H, W) or NHWC (N, H, W, "
                         f"C) in [-1, 1], got shape {tuple(x.shape)}")
    return tuple(x.shape[1:]) + ((1,) if x.ndim == 3 else ())


def _images(x, what):
    _image_shape(x, what)
    points = as_points(x, f"memorisation: {what}")
    low, high = float(points.min()), float(points.max())
    if not (numpy.isfinite(low) and numpy.isfinite(high)) or low < -1.001 or high > 1.001:
        raise ConfigError(f"memorisation: {what}: expected images in [-1, 1], got values in "
                          f"[{low:.4g}, {high:.4g}] (uint8 digits: minigan.data.to_unit_range)")
    return points


def nearest_training(samples, train):
    """(distances (N,), indices (N,)) host NumPy: each sample's pixel distance to its
    nearest training image and that image's index in ``train``."""
    shapes = _image_shape(samples, "samples"), _image_shape(train, "train")
    if shapes[0] != shapes[1]:
        raise ShapeError(f"memorisation: samples {shapes[0]} and train {shapes[1]} images "
                         "differ in shape (H, W, C)")
    return nearest(_images(samples, "samples"), _images(train, "train"))


def memorisation(samples, train, heldout, percentile=COPY_PERCENTILE):
    """How many generated images are (near-)copies of training images.

    samples (N, ...), train (M, ...), heldout (H, ...): images in [-1, 1], (N, 28, 28) or
    NHWC, of one shape, any backend; ``heldout`` are real images the generator never
    trained on. Returns a dict of Python numbers:

    - ``copy_fraction``: the fraction of samples whose nearest training image is closer
      than ``threshold``;
    - ``threshold``: the ``percentile`` (default 1) percentile of the held-out images'
      distances to their nearest training image;
    - ``heldout_copy_fraction``: the same fraction for the held-out images (about
      ``percentile`` / 100 by construction);
    - ``median_distance``, ``heldout_median_distance``: the median nearest-training
      distance of the samples and of the held-out images (much smaller for samples:
      closer to the training set than fresh digits are);
    - ``n_samples``, ``n_train``, ``n_heldout``, ``percentile``.
    """
    if isinstance(percentile, bool) or not 0 < float(percentile) < 100:
        raise ConfigError(f"memorisation: percentile must lie in (0, 100), got {percentile!r}")
    shapes = _image_shape(heldout, "heldout"), _image_shape(train, "train")
    if shapes[0] != shapes[1]:
        raise ShapeError(f"memorisation: heldout {shapes[0]} and train {shapes[1]} images "
                         "differ in shape (H, W, C)")
    sample_distances, _ = nearest_training(samples, train)
    heldout_distances, _ = nearest_training(heldout, train)
    threshold = float(numpy.percentile(heldout_distances, percentile))
    return {
        "copy_fraction": float((sample_distances < threshold).mean()),
        "threshold": threshold,
        "heldout_copy_fraction": float((heldout_distances < threshold).mean()),
        "median_distance": float(numpy.median(sample_distances)),
        "heldout_median_distance": float(numpy.median(heldout_distances)),
        "n_samples": int(sample_distances.shape[0]),
        "n_train": int(train.shape[0]),
        "n_heldout": int(heldout_distances.shape[0]),
        "percentile": float(percentile),
    }


def closest_pairs(samples, train, count=16):
    """The ``count`` samples nearest the training set, nearest first: host NumPy
    (sample indices (count,), training indices (count,), distances (count,))."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigError(f"closest_pairs: count must be an integer >= 1, got {count!r}")
    distances, indices = nearest_training(samples, train)
    order = numpy.argsort(distances, kind="stable")[:count]
    return order, indices[order], distances[order]
