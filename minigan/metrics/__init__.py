"""Numbers that judge a generator.

- ``minigan.metrics.classifier``: MNIST-like images scored in the feature space of a small
  shipped classifier (the Fréchet distance, the class histogram and coverage, the mean
  confidence).
- ``minigan.metrics.modes``: samples of a known Gaussian mixture (the 2-D ring and grid of
  ``minigan.data.mixtures``): modes captured, high-quality fraction, reverse KL.
- ``minigan.metrics.memorisation``: how many generated images are near-copies of training
  images, measured against held-out digits (``memorisation``, ``closest_pairs``).
- ``minigan.metrics.precision_recall``: fidelity and diversity apart (Kynkäänniemi et al.
  2019), in the same classifier's feature space.
- ``minigan.metrics.heldout_report``: all of these for a generator's images against
  held-out images, with the real-vs-real references at the same sizes.
"""

from .classifier import (
    ARCHITECTURE,
    DEFAULT_MIN_FRACTION,
    FEATURES,
    NUM_CLASSES,
    WEIGHTS_FILE,
    class_coverage,
    class_histogram,
    classifier_outputs,
    evaluate_samples,
    feature_statistics,
    format_report,
    frechet_distance,
    frechet_distance_from_statistics,
    heldout_split,
    load_classifier,
    mean_confidence,
    mnist_classifier,
    weights_path,
)
from .heldout_report import format_heldout_report, heldout_report
from .memorisation import closest_pairs, memorisation, nearest_training
from .modes import mode_coverage
from .precision_recall import precision_recall

__all__ = ["ARCHITECTURE", "DEFAULT_MIN_FRACTION", "FEATURES", "NUM_CLASSES", "WEIGHTS_FILE",
           "class_coverage", "class_histogram", "classifier_outputs", "closest_pairs",
           "evaluate_samples", "feature_statistics", "format_heldout_report", "format_report",
           "frechet_distance", "frechet_distance_from_statistics", "heldout_report",
           "heldout_split", "load_classifier", "mean_confidence", "memorisation",
           "mnist_classifier", "mode_coverage", "nearest_training", "precision_recall",
           "weights_path"]
