"""Numbers that judge a generator.

- ``minigan.metrics.classifier``: MNIST-like images scored in the feature space of a small
  shipped classifier (the Fréchet distance, the class histogram, the mean confidence).
- ``minigan.metrics.memorisation``: how many generated images are near-copies of training
  images, measured against held-out digits (``memorisation``, ``closest_pairs``).
- ``minigan.metrics.precision_recall``: fidelity and diversity apart (Kynkäänniemi et al.
  2019), in the same classifier's feature space.
"""

from .classifier import (
    ARCHITECTURE,
    DEFAULT_MIN_FRACTION,
    FEATURES,
    NUM_CLASSES,
    WEIGHTS_FILE,
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
    mode_coverage,
    weights_path,
)
from .memorisation import closest_pairs, memorisation, nearest_training
from .precision_recall import precision_recall

__all__ = ["closest_pairs", "memorisation", "nearest_training", "precision_recall",
           "ARCHITECTURE", "DEFAULT_MIN_FRACTION", "FEATURES", "NUM_CLASSES", "WEIGHTS_FILE",
           "class_histogram", "classifier_outputs", "evaluate_samples", "feature_statistics",
           "format_report", "frechet_distance", "frechet_distance_from_statistics",
           "heldout_split", "load_classifier", "mean_confidence", "mnist_classifier",
           "mode_coverage", "weights_path"]
