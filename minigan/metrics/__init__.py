"""Numbers that judge a generator.

- ``minigan.metrics.classifier``: MNIST-like images scored in the feature space of a small
  shipped classifier (the Fréchet distance, the class histogram, the mean confidence).
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

__all__ = ["ARCHITECTURE", "DEFAULT_MIN_FRACTION", "FEATURES", "NUM_CLASSES", "WEIGHTS_FILE",
           "class_histogram", "classifier_outputs", "evaluate_samples", "feature_statistics",
           "format_report", "frechet_distance", "frechet_distance_from_statistics",
           "heldout_split", "load_classifier", "mean_confidence", "mnist_classifier",
           "mode_coverage", "weights_path"]
