"""Quality metrics: Fréchet distance, mode coverage, and the shipped MNIST classifier."""

import hashlib
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan import metrics
from minigan.data import to_unit_range
from minigan.errors import ConfigError, ShapeError


def gaussian_features(seed, n, f, shift=0.0):
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((f, f))
    return rng.standard_normal((n, f)) @ mixing + shift


# -- Fréchet distance ---------------------------------------------------------------

def test_identical_sets_give_zero():
    a = gaussian_features(0, 300, 16)
    scale = np.trace(np.cov(a, rowvar=False))
    assert 0.0 <= metrics.frechet_distance(a, a) < 1e-9 * scale


def test_one_dimensional_closed_form():
    rng = np.random.default_rng(1)
    a, b = rng.normal(2.0, 3.0, (400, 1)), rng.normal(-1.0, 0.5, (250, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-12)


def test_diagonal_gaussians_closed_form():
    rng = np.random.default_rng(2)
    mu_a, mu_b = rng.standard_normal(8), rng.standard_normal(8)
    var_a, var_b = rng.uniform(0.1, 4, 8), rng.uniform(0.1, 4, 8)
    expected = ((mu_a - mu_b) ** 2).sum() + ((np.sqrt(var_a) - np.sqrt(var_b)) ** 2).sum()
    value = metrics.frechet_distance_from_statistics(mu_a, np.diag(var_a), mu_b, np.diag(var_b))
    assert value == pytest.approx(expected, rel=1e-12)


@given(f=st.integers(1, 12), seed=st.integers(0, 10_000))
def test_matches_eigenvalues_of_the_covariance_product(f, seed):
    # Reference: Tr((S_a^1/2 S_b S_a^1/2)^1/2) = sum sqrt(eig(S_a S_b)) (similar matrices)
    a = gaussian_features(seed, 3 * f + 5, f)
    b = gaussian_features(seed + 1, 2 * f + 7, f, shift=0.5)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    eigenvalues = np.linalg.eigvals(cov_a @ cov_b).real
    expected = (((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b)
                - 2 * np.sqrt(np.clip(eigenvalues, 0, None)).sum())
    value = metrics.frechet_distance(a, b)
    assert value == pytest.approx(expected, rel=1e-8, abs=1e-9 * np.trace(cov_a + cov_b))
    assert metrics.frechet_distance(b, a) == pytest.approx(value, rel=1e-9)  # symmetric


@given(f=st.integers(1, 10), seed=st.integers(0, 10_000))
def test_translation_adds_squared_mean_shift(f, seed):
    a = gaussian_features(seed, 50, f)
    delta = np.random.default_rng(seed).standard_normal(f) * 3
    expected = float(delta @ delta)
    assert metrics.frechet_distance(a, a + delta) == pytest.approx(expected, rel=1e-7,
                                                                   abs=1e-9)


def test_singular_covariances_are_fine():
    a = gaussian_features(3, 5, 20)  # rank-4 covariance in 20 dimensions
    b = np.zeros((10, 20))           # zero covariance
    value = metrics.frechet_distance(a, b)
    expected = (a.mean(0) ** 2).sum() + np.trace(np.cov(a, rowvar=False))
    assert value == pytest.approx(expected, rel=1e-10)
    assert metrics.frechet_distance(b, b) == 0.0


def test_frechet_errors():
    with pytest.raises(ShapeError, match="16 and 8 features"):
        metrics.frechet_distance(np.zeros((5, 16)), np.zeros((5, 8)))
    with pytest.raises(ShapeError, match="N >= 2"):
        metrics.frechet_distance(np.zeros((1, 4)), np.zeros((5, 4)))


# -- histogram, mode coverage, confidence -------------------------------------------

def onehot_probabilities(classes, k=10, confidence=1.0):
    p = np.full((len(classes), k), (1 - confidence) / (k - 1))
    p[np.arange(len(classes)), classes] = confidence
    return p


def test_balanced_classes():
    p = onehot_probabilities(np.repeat(np.arange(10), 30), confidence=0.8)
    assert metrics.class_histogram(p).tolist() == [30] * 10
    assert metrics.class_coverage(p) == (10, pytest.approx(0.0, abs=1e-15))
    assert metrics.mean_confidence(p) == pytest.approx(0.8)


def test_collapse_to_one_class():
    p = onehot_probabilities(np.full(64, 3))
    present, kl = metrics.class_coverage(p)
    assert present == 1 and kl == pytest.approx(math.log(10))
    assert metrics.class_histogram(p).tolist() == [0, 0, 0, 64, 0, 0, 0, 0, 0, 0]


def test_rare_classes_below_the_threshold_do_not_count():
    # 1000 samples: classes 0..4 common, class 5 has 10 (1%: present), class 6 has 9 (not)
    classes = np.concatenate([np.repeat(np.arange(5), 196), np.full(10, 5), np.full(9, 6),
                              np.full(1, 7)])
    p = onehot_probabilities(classes)
    counts = np.bincount(classes, minlength=10) / len(classes)
    nonzero = counts[counts > 0]
    present, kl = metrics.class_coverage(p)
    assert present == 6
    assert kl == pytest.approx((nonzero * np.log(nonzero * 10)).sum(), rel=1e-12)
    assert metrics.class_coverage(p, min_fraction=0.0)[0] == 8
    with pytest.raises(ConfigError, match="min_fraction"):
        metrics.class_coverage(p, min_fraction=1.5)


# -- the shipped classifier -----------------------------------------------------------

@pytest.fixture(scope="module")
def embedded():
    from minigan.data import load_embedded_mnist

    digits, labels = load_embedded_mnist(quiet=True)
    return to_unit_range(digits), labels.astype(np.int64)


@pytest.fixture(scope="module")
def real_outputs(embedded):
    return metrics.classifier_outputs(embedded[0])


def test_heldout_split_is_fixed_and_stratified(embedded):
    labels = embedded[1]
    train, heldout = metrics.heldout_split(labels)
    again = metrics.heldout_split(labels)
    assert len(train) == 4500 and len(heldout) == 500
    assert np.bincount(labels[heldout], minlength=10).tolist() == [50] * 10
    assert not set(train) & set(heldout)
    assert np.array_equal(train, again[0]) and np.array_equal(heldout, again[1])


def test_weights_file_is_small_and_matches_its_record():
    path = metrics.weights_path()
    payload = path.read_bytes()
    record = json.loads(path.with_name("mnist_classifier.json").read_text())
    assert len(payload) < 400 * 1024
    assert hashlib.sha256(payload).hexdigest() == record["sha256"]
    assert record["architecture"] == metrics.ARCHITECTURE
    model = metrics.load_classifier()
    assert not model.training
    assert sum(p.data.size for p in model.parameters()) == record["parameters"]


def test_shipped_classifier_accuracy_on_heldout_digits(embedded, real_outputs):
    labels = embedded[1]
    _, heldout = metrics.heldout_split(labels)
    features, probabilities = real_outputs
    assert features.shape == (5000, metrics.FEATURES) and features.dtype == np.float64
    assert probabilities.shape == (5000, 10)
    np.testing.assert_allclose(probabilities.sum(1), 1, rtol=1e-5)
    accuracy = (probabilities[heldout].argmax(1) == labels[heldout]).mean()
    assert accuracy >= 0.95


def test_classifier_outputs_on_both_backends(array_backend, embedded):
    images = embedded[0][:40]
    features, probabilities = metrics.classifier_outputs(
        images.reshape(40, 28, 28), batch_size=16)  # (N, 28, 28) is accepted too
    mg.backend.use("numpy")
    expected = metrics.classifier_outputs(images)
    np.testing.assert_allclose(features, expected[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(probabilities, expected[1], rtol=1e-5, atol=1e-7)


def test_classifier_outputs_takes_device_arrays(array_backend, embedded):
    images = array_backend.asarray(embedded[0][:8])
    features, probabilities = metrics.classifier_outputs(images)
    assert isinstance(features, np.ndarray) and isinstance(probabilities, np.ndarray)
    with pytest.raises(ShapeError, match=r"\(N, 28, 28, 1\)"):
        metrics.classifier_outputs(array_backend.zeros((2, 32, 32, 1), dtype="float32"))
    with pytest.raises(ConfigError, match="to_unit_range"):
        metrics.classifier_outputs(array_backend.zeros((2, 28, 28, 1), dtype="uint8"))


def test_real_halves_score_well_and_noise_badly(embedded):
    images = embedded[0]
    order = np.random.default_rng(0).permutation(len(images))
    first, second = images[order[:1000]], images[order[1000:2000]]
    real = metrics.evaluate_samples(first, second)
    assert real["frechet_distance"] < 10
    assert real["classes_present"] == 10 and real["kl_to_uniform"] < 0.05
    assert real["mean_confidence"] > 0.9
    assert real["n_fake"] == 1000 and real["n_real"] == 1000
    assert sum(real["class_histogram"]) == 1000 and len(real["class_histogram"]) == 10

    noise = np.random.default_rng(1).uniform(-1, 1, (500, 28, 28, 1)).astype(np.float32)
    bad = metrics.evaluate_samples(noise, second)
    assert bad["frechet_distance"] > 50 * max(real["frechet_distance"], 1.0)

    report = metrics.format_report(real)
    assert "Frechet distance" in report and "not Inception FID" in report
    assert "Classes present: 10/10" in report and len(report.splitlines()) == 15


def test_evaluate_defaults_to_the_embedded_sample(embedded):
    result = metrics.evaluate_samples(embedded[0][:200])
    assert result["n_real"] == 5000 and result["n_fake"] == 200
    assert json.loads(json.dumps(result)) == result  # plain Python types only
