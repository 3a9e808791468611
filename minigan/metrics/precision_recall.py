"""Precision and recall of a generator: fidelity and diversity, measured apart.

Kynkäänniemi et al., "Improved Precision and Recall Metric for Assessing Generative
Models" (NeurIPS 2019). Each set of feature vectors stands for a manifold: the union of
balls around its points, each ball's radius the distance from its point to the point's
k-th nearest neighbour in the same set (k = 3 in the paper). Then

    precision = fraction of generated points inside the real manifold   (fidelity)
    recall    = fraction of real points inside the generated manifold   (diversity)

A generator of noise has precision near 0; one that makes good digits of a single class
has high precision and low recall; real digits scored against other real digits score
high on both. Both depend on the sizes of the two sets (a larger set draws smaller
balls): compare at equal sizes, and against the real-vs-real value at those sizes.

The features are those of minigan's own MNIST classifier (``classifier_outputs``: its
64 penultimate activations), not Inception's or VGG's as in the paper, so the values
compare runs with each other, not with published numbers. ``precision_recall`` takes
images, (N, 28, 28) or (N, 28, 28, 1) in [-1, 1], and runs the classifier on them; or
features, 2-D arrays (N, F), used as given (features of another network, or a
hand-made case). Both arguments must be of the same kind.
"""

from .. import backend
from ..errors import ConfigError, ShapeError
from .classifier import classifier_outputs
from .neighbours import as_points, kth_neighbour_distance, within_any_ball

DEFAULT_K = 3
"""The paper's choice of neighbour for the radii."""


def features_of(x, what):
    """Images (3-D or 4-D) -> the classifier's features; features (2-D) as they are."""
    if x.ndim == 2:
        return as_points(x, what)
    if x.ndim in (3, 4):
        return as_points(classifier_outputs(x)[0], what)
    raise ShapeError(f"{what}: expected images (N, 28, 28[, 1]) or features (N, F), got "
                     f"shape {tuple(x.shape)}")


def precision_recall(samples, real, k=DEFAULT_K):
    """{"precision", "recall", "k", "n_samples", "n_real"} of generated against real.

    samples, real: images (N, 28, 28) or NHWC (N, 28, 28, 1) in [-1, 1] (scored in the
    shipped classifier's feature space), or features (N, F), both of the same kind, any
    backend; each set needs more than ``k`` points. precision = the fraction of samples
    within ``dist(r, k-th nearest other real point)`` of some real point r; recall = the
    fraction of real points within the same kind of radius of some sample. Python
    numbers; the searches are exact and memory-bounded (``neighbours``).
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"precision_recall: k must be an integer >= 1, got {k!r}")
    if (samples.ndim == 2) != (real.ndim == 2):
        raise ShapeError(f"precision_recall: samples {tuple(samples.shape)} and real "
                         f"{tuple(real.shape)} must both be images or both be features (N, F)")
    for name, x in (("samples", samples), ("real", real)):
        if x.ndim >= 1 and x.shape[0] <= k:
            raise ConfigError(f"precision_recall: {name} has {x.shape[0]} points; the k-th "
                              f"nearest neighbour needs more than k={k}")
    fake = features_of(samples, "precision_recall: samples")
    true = features_of(real, "precision_recall: real")
    if fake.shape[1] != true.shape[1]:
        raise ShapeError(f"precision_recall: samples have {fake.shape[1]} features, real "
                         f"{true.shape[1]}; expected the same")
    precision = within_any_ball(fake, true, kth_neighbour_distance(true, k)).mean()
    recall = within_any_ball(true, fake, kth_neighbour_distance(fake, k)).mean()
    return {"precision": float(backend.to_numpy(precision)),
            "recall": float(backend.to_numpy(recall)), "k": k,
            "n_samples": int(fake.shape[0]), "n_real": int(true.shape[0])}
