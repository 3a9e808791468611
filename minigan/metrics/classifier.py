"""Sample-quality numbers for MNIST-like generators, from a small shipped classifier.

What ``minigan evaluate`` reports, for generated images against real ones:

- **Fréchet distance (FD)** between Gaussians fitted to the two sets' features in the
  feature space of a small MNIST CNN trained with minigan's own layers (its 64
  penultimate ReLU activations):
      FD = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^{1/2} S_b S_a^{1/2})^{1/2}).
  This is an *FID-like* number, **not** the Inception FID: it uses a different
  network and feature space, so the values are not comparable with published FIDs,
  only with each other (same classifier, similar sample sizes: FD is biased upwards
  for small samples, so compare runs at equal ``n``).
- the generated **class histogram** (the classifier's argmax), the number of classes
  present and KL(histogram || uniform) in nats (0 for perfectly balanced classes,
  log 10 = 2.30 when every sample is one digit): mode coverage;
- the **mean classifier confidence** (mean max-probability): how digit-like the
  samples are to the classifier.

What good values look like (shipped classifier; ``scripts/train_classifier.py``
recomputes the first two and stores them in ``mnist_classifier.json``):

  ===================================================  =======  =======  =====  ==========
  compared sets (embedded 5,000-digit sample)          n each   FD       cls    KL (nats)
  ===================================================  =======  =======  =====  ==========
  real vs real: two disjoint random halves              2500     2.0     10     0.001
  real vs real: disjoint random subsets                 1000     4.8     10     0.005
  real vs real: disjoint random subsets                  500     7.7     10     0.004
  real digits shifted 3 px right vs real                2500    80       -      -
  only the digit "1" vs real                        258/2500  510       1     2.30
  uniform noise in [-1, 1] vs real                      2500   696       6     0.86
  ===================================================  =======  =======  =====  ==========

So FD is biased upwards at small n (compare at equal n; 2,000+ samples recommended),
the real-vs-real floor is a few units, and a generator that makes recognisable, varied
digits should land within the tens; hundreds means the samples are not digit-like or
miss modes. The classifier's mean confidence on real held-out digits is 0.98 (uniform
noise: 0.41). The real halves contain the classifier's training digits; held-out and
training digits score alike (FD 7.0 between 500 held-out and 500 training digits), so
the features do not single out the digits the classifier saw.

Images are NHWC (N, 28, 28, 1) floats in [-1, 1] (``(N, 28, 28)`` is accepted too),
of any backend; the network runs on the active backend in float32 and every result
comes back as host NumPy (float64) or Python numbers. The statistics (means,
covariances, eigendecompositions) are computed on the host in float64: they are
small (64 x 64) and need the precision.
"""

import functools
import importlib.resources
import math

import numpy

from .. import backend, nn
from ..data.heldout import heldout_split  # noqa: F401  (a name of minigan.metrics)
from ..errors import ConfigError, ShapeError, StateError
from .judge_notes import judge_note

NUM_CLASSES = 10
FEATURES = 64
ARCHITECTURE = "mnist-cnn-16-32-64"
WEIGHTS_FILE = "mnist_classifier.npz"
DEFAULT_MIN_FRACTION = 0.01


def mnist_classifier(*, dtype=None, rng=None):
    """The classifier's architecture (untrained): NHWC (N, 28, 28, 1) -> logits (N, 10).

    conv 5x5/2 (1 -> 16) -> LeakyReLU(0.2) -> (N, 14, 14, 16)
    conv 5x5/2 (16 -> 32) -> LeakyReLU(0.2) -> (N, 7, 7, 32) -> Flatten (N, 1568)
    Dense(1568, 64) -> ReLU  -> features (N, 64)     [layers[:-1]]
    Dense(64, 10)            -> logits (N, 10)
    114,314 parameters (about 210 KB stored as compressed float16).
    """
    kw = dict(dtype=dtype, rng=rng)
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=2, **kw), nn.LeakyReLU(0.2),
        nn.Conv2d(16, 32, 5, stride=2, padding=2, **kw), nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Dense(7 * 7 * 32, FEATURES, **kw), nn.ReLU(),
        nn.Dense(FEATURES, NUM_CLASSES, **kw),
    )


def weights_path():
    """Where the shipped classifier weights live (inside the installed package)."""
    return importlib.resources.files("minigan").joinpath("data", WEIGHTS_FILE)


def load_classifier():
    """The shipped, trained classifier in eval mode, on the active backend (float32).

    Cached per backend: build models after ``backend.use`` as everywhere in minigan.
    """
    return _load_classifier(backend.name, id(backend.xp))


@functools.lru_cache(maxsize=4)
def _load_classifier(backend_name, backend_id):
    model = mnist_classifier(dtype="float32", rng=backend.default_rng(0))
    path = weights_path()
    if not path.is_file():
        raise StateError(f"the classifier weights {path} are missing from the installed "
                         "package; retrain them with `python scripts/train_classifier.py`")
    with path.open("rb") as f, numpy.load(f, allow_pickle=False) as stored:
        model.load_state_dict({key: stored[key] for key in stored.files})
    return model.eval()


def classifier_outputs(images, batch_size=500, model=None):
    """Penultimate features and class probabilities of the (shipped) classifier.

    images: (N, 28, 28, 1) or (N, 28, 28) floats in [-1, 1], any backend ->
    (features (N, 64) float64 NumPy, probabilities (N, 10) float64 NumPy).
    Computed on the active backend in float32, ``batch_size`` images at a time, with
    the shipped classifier or ``model`` (a ``mnist_classifier`` Sequential).
    """
    if images.ndim == 3:
        images = images.reshape(tuple(images.shape) + (1,))
    if images.ndim != 4 or tuple(images.shape[1:]) != (28, 28, 1) or images.shape[0] == 0:
        raise ShapeError(f"classifier_outputs: expected images (N, 28, 28, 1) NHWC in "
                         f"[-1, 1], got shape {tuple(images.shape)}")
    if images.dtype.kind != "f":
        raise ConfigError(f"classifier_outputs: expected floating images in [-1, 1], got "
                          f"dtype {images.dtype} (uint8 digits: use minigan.data.to_unit_range)")
    model = load_classifier() if model is None else model
    xp = backend.xp
    features, probabilities = [], []
    for start in range(0, images.shape[0], batch_size):
        x = backend.to_device(images[start:start + batch_size]).astype(xp.float32, copy=False)
        for layer in model.layers[:-1]:
            x = layer.forward(x)
        logits = model.layers[-1].forward(x)
        logits = logits - logits.max(axis=1, keepdims=True)
        p = xp.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        features.append(backend.to_numpy(x).astype(numpy.float64))
        probabilities.append(backend.to_numpy(p).astype(numpy.float64))
    model.clear_backward_state()  # nothing will call backward: drop what forward kept
    return numpy.concatenate(features), numpy.concatenate(probabilities)


def feature_statistics(features):
    """features (N, F), N >= 2 -> (mean (F,), unbiased covariance (F, F)), host float64."""
    features = numpy.asarray(backend.to_numpy(features), dtype=numpy.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ShapeError(f"feature_statistics: expected features (N, F) with N >= 2, got "
                         f"shape {features.shape}")
    return features.mean(axis=0), numpy.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1])


def _sqrt_psd(matrix):
    """Symmetric square root of a symmetric positive semi-definite matrix (via eigh)."""
    values, vectors = numpy.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * numpy.sqrt(numpy.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_statistics(mu_a, cov_a, mu_b, cov_b):
    """FD between N(mu_a, cov_a) and N(mu_b, cov_b): mu (F,), cov (F, F) -> float >= 0.

    Tr((S_a^{1/2} S_b S_a^{1/2})^{1/2}) is the sum of the square roots of the
    eigenvalues of the symmetric PSD matrix S_a^{1/2} S_b S_a^{1/2}; tiny negative
    eigenvalues (rounding) are clipped to 0, so singular covariances are fine.
    """
    mu_a, mu_b = numpy.asarray(mu_a, numpy.float64), numpy.asarray(mu_b, numpy.float64)
    cov_a, cov_b = numpy.asarray(cov_a, numpy.float64), numpy.asarray(cov_b, numpy.float64)
    f = mu_a.shape[0]
    if mu_b.shape != (f,) or cov_a.shape != (f, f) or cov_b.shape != (f, f):
        raise ShapeError(f"frechet_distance: statistics do not match: means {mu_a.shape} and "
                         f"{mu_b.shape}, covariances {cov_a.shape} and {cov_b.shape}")
    root_a = _sqrt_psd(cov_a)
    middle = root_a @ cov_b @ root_a
    eigenvalues = numpy.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = numpy.sqrt(numpy.clip(eigenvalues, 0.0, None)).sum()
    delta = mu_a - mu_b
    value = delta @ delta + numpy.trace(cov_a) + numpy.trace(cov_b) - 2.0 * trace_sqrt
    return max(float(value), 0.0)


def frechet_distance(features_a, features_b):
    """FD between Gaussians fitted to two feature sets: (N_a, F), (N_b, F) -> float >= 0.

    ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a^{1/2} S_b S_a^{1/2})^{1/2}), with the
    unbiased sample covariances, on the host in float64.
    """
    mu_a, cov_a = feature_statistics(features_a)
    mu_b, cov_b = feature_statistics(features_b)
    if mu_a.shape != mu_b.shape:
        raise ShapeError(f"frechet_distance: feature sets have {mu_a.shape[0]} and "
                         f"{mu_b.shape[0]} features per sample; expected the same")
    return frechet_distance_from_statistics(mu_a, cov_a, mu_b, cov_b)


def class_histogram(probabilities):
    """probabilities (N, K) -> counts (K,) int64 of the predicted (argmax) classes."""
    probabilities = numpy.asarray(backend.to_numpy(probabilities))
    if probabilities.ndim != 2 or probabilities.shape[0] == 0:
        raise ShapeError(f"class_histogram: expected probabilities (N, K), got shape "
                         f"{probabilities.shape}")
    k = probabilities.shape[1]
    return numpy.bincount(probabilities.argmax(axis=1), minlength=k).astype(numpy.int64)


def class_coverage(probabilities, min_fraction=DEFAULT_MIN_FRACTION):
    """(classes present, KL(histogram || uniform) in nats) from probabilities (N, K).

    A class is *present* when at least ``max(1, min_fraction * N)`` samples are
    predicted as it: the default 1% is a tenth of a class's share under a uniform
    10-class histogram, so a stray misclassification or two in a large sample does
    not count as covering a mode, while a rare but real mode still does.
    KL = sum_k p_k log(p_k K), with 0 log 0 = 0: 0 for balanced classes, log K when
    all samples fall in one class.
    """
    if not 0.0 <= min_fraction < 1.0:
        raise ConfigError(f"class_coverage: min_fraction must lie in [0, 1), got {min_fraction}")
    counts = class_histogram(probabilities)
    n, k = int(counts.sum()), len(counts)
    present = int((counts >= max(1.0, min_fraction * n)).sum())
    p = counts[counts > 0] / n
    return present, float((p * numpy.log(p * k)).sum())


def mean_confidence(probabilities):
    """Mean over samples of the largest class probability: probabilities (N, K) -> float."""
    probabilities = numpy.asarray(backend.to_numpy(probabilities))
    return float(probabilities.max(axis=1).mean())


def evaluate_samples(fake_images, real_images=None, batch_size=500,
                     min_fraction=DEFAULT_MIN_FRACTION):
    """The quality report of generated images against real ones.

    fake_images, real_images: (N, 28, 28, 1) floats in [-1, 1], any backend. Without
    ``real_images`` the embedded 5,000-digit MNIST sample is used. Returns a dict:
    frechet_distance, classes_present, class_histogram (list of 10 ints),
    kl_to_uniform, mean_confidence (all of the fake images), n_fake, n_real.
    """
    if real_images is None:
        from ..data import load_embedded_mnist, to_unit_range

        real_images = to_unit_range(load_embedded_mnist(quiet=True)[0])
    fake_features, fake_probabilities = classifier_outputs(fake_images, batch_size)
    real_features, _ = classifier_outputs(real_images, batch_size)
    present, kl = class_coverage(fake_probabilities, min_fraction)
    return {
        "frechet_distance": frechet_distance(fake_features, real_features),
        "classes_present": present,
        "class_histogram": [int(c) for c in class_histogram(fake_probabilities)],
        "kl_to_uniform": kl,
        "mean_confidence": mean_confidence(fake_probabilities),
        "n_fake": int(fake_features.shape[0]),
        "n_real": int(real_features.shape[0]),
    }


def format_report(result):
    """A readable multi-line report of ``evaluate_samples``' dict."""
    counts = result["class_histogram"]
    n = max(sum(counts), 1)
    bar_unit = max(counts) / 30 if max(counts) else 1
    lines = [
        f"Frechet distance (MNIST-classifier features, not Inception FID): "
        f"{result['frechet_distance']:.3f}",
        f"  {result['n_fake']} generated vs {result['n_real']} real images",
        f"Classes present: {result['classes_present']}/{len(counts)}   "
        f"KL(histogram || uniform): {result['kl_to_uniform']:.4f} nats "
        f"(0 = balanced, {math.log(len(counts)):.2f} = one class)",
        f"Mean classifier confidence: {result['mean_confidence']:.4f}",
        "Predicted class histogram:",
    ]
    if result.get("generator"):
        lines.insert(0, f"Note: {result['generator']}")
    lines[:0] = judge_note(result.get("dataset"))  # what the numbers mean off MNIST
    for digit, count in enumerate(counts):
        lines.append(f"  {digit}: {count:6d} ({100 * count / n:5.1f}%) "
                     f"{'#' * int(round(count / bar_unit))}")
    return "\n".join(lines)
