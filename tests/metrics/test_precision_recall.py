"""Precision and recall (Kynkäänniemi et al. 2019, ``metrics.precision_recall``): the
k-NN radii and ball counts on cases worked by hand, against a brute-force version on
drawn sets, and on digits: noise has no precision, one digit class has no recall."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan import metrics
from minigan.data import load_embedded_mnist, to_unit_range
from minigan.errors import ConfigError, ShapeError
from minigan.metrics import neighbours


def column(*values):
    return np.array(values, dtype=np.float64)[:, None]


def test_one_dimensional_case_by_hand():
    # real 0, 1, 2, 10 with k = 1: radii (distance to the nearest other point) 1, 1, 1, 8;
    # the real manifold is [-1, 3] u [2, 18].
    # fake 0.5 (in), 2.9 (in), 5 (in, the ball of 10), 19 (out), -1.5 (out): precision 3/5.
    # fake 0.5, 2.9, 5, 19, -1.5 with k = 1: sorted -1.5, 0.5, 2.9, 5, 19; radii
    # 2 (-1.5), 2 (0.5), 2.1 (2.9), 2.1 (5), 14 (19); manifold [-3.5, 2.5] u [0.8, 5] u
    # [2.9, 7.1] u [5, 33]: real 0 (in), 1 (in), 2 (in), 10 (in): recall 4/4.
    real = column(0, 1, 2, 10)
    fake = column(0.5, 2.9, 5, 19, -1.5)
    result = metrics.precision_recall(fake, real, k=1)
    assert result["precision"] == pytest.approx(3 / 5)
    assert result["recall"] == 1.0
    assert result["k"] == 1 and result["n_samples"] == 5 and result["n_real"] == 4


def test_two_dimensional_case_by_hand_with_k_2():
    # real: the corners of the unit square and a far point (5, 0).
    # k = 2: each corner's 2nd nearest other point is at distance 1 (two neighbours at 1,
    # the diagonal at 1.414); (5, 0)'s neighbours are (1, 0) at 4 and (1, 1) at 4.12:
    # radius 4.12.
    real = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [5, 0]], dtype=np.float64)
    radii = neighbours.kth_neighbour_distance(real, 2)
    np.testing.assert_allclose(radii, [1, 1, 1, 1, np.sqrt(17)], rtol=1e-12)
    # fake: (0.5, 0.5) in (0.71 from every corner), (-1.5, 0) out (1.5 from (0, 0)),
    # (8, 2) in ((5, 0) at 3.6 <= 4.12), (0, 3) out (2 from (0, 1); (5, 0) at 5.83).
    # Precision 2/4.
    fake = np.array([[0.5, 0.5], [-1.5, 0], [8, 2], [0, 3]], dtype=np.float64)
    # fake radii, k = 2: (0.5, 0.5): others at 2.06, 2.55, 7.65 -> 2.55;
    # (-1.5, 0): 2.06, 3.35, 9.71 -> 3.35; (8, 2): 7.65, 8.06, 9.71 -> 8.06;
    # (0, 3): 2.55, 3.35, 8.06 -> 3.35. Every corner lies within 0.71 of (0.5, 0.5) and
    # (5, 0) within 8.06 of (8, 2) (3.61 away): recall 5/5.
    result = metrics.precision_recall(fake, real, k=2)
    assert result["precision"] == 0.5 and result["recall"] == 1.0


def test_a_duplicate_counts_as_a_neighbour_at_distance_zero():
    points = column(0, 0, 3)
    np.testing.assert_allclose(neighbours.kth_neighbour_distance(points, 1), [0, 0, 3])
    with pytest.raises(ConfigError, match="1 <= k < N"):
        neighbours.kth_neighbour_distance(points, 3)


def brute_precision_recall(fake, real, k):
    def radii(x):
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    def inside(q, c, r):
        return (np.sqrt(((q[:, None] - c[None]) ** 2).sum(-1)) <= r[None]).any(1).mean()

    return inside(fake, real, radii(real)), inside(real, fake, radii(fake))


@given(n_fake=st.integers(2, 14), n_real=st.integers(2, 14), f=st.integers(1, 5),
       k=st.integers(1, 4), block=st.integers(1, 60), seed=st.integers(0, 2**31 - 1))
def test_equals_a_brute_force_version(n_fake, n_real, f, k, block, seed, monkeypatch):
    k = min(k, n_fake - 1, n_real - 1)
    rng = np.random.default_rng(seed)
    fake, real = rng.normal(size=(n_fake, f)), rng.normal(1.0, size=(n_real, f))
    monkeypatch.setattr(neighbours, "BLOCK_ELEMENTS", block)
    result = metrics.precision_recall(fake, real, k=k)
    # continuous draws: no distance lies within rounding (1e-15) of a radius, so both
    # ways of computing distances agree on every comparison and the fractions are equal
    assert (result["precision"], result["recall"]) == pytest.approx(
        brute_precision_recall(fake, real, k), abs=1e-12)


def test_features_on_every_backend(array_backend):
    rng = np.random.default_rng(5)
    fake, real = rng.normal(size=(30, 4)), rng.normal(0.5, size=(25, 4))
    result = metrics.precision_recall(array_backend.asarray(fake), array_backend.asarray(real))
    assert (result["precision"], result["recall"]) == pytest.approx(
        brute_precision_recall(fake, real, 3), abs=1e-12)
    assert isinstance(result["precision"], float) and isinstance(result["recall"], float)


@pytest.fixture(scope="module")
def digits():
    """(training digits, training labels, held-out digits) of the embedded sample,
    shuffled, in [-1, 1]."""
    images, labels = load_embedded_mnist(quiet=True)
    train, heldout = metrics.heldout_split(labels)
    rng = np.random.default_rng(0)
    train, heldout = rng.permutation(train), rng.permutation(heldout)
    return to_unit_range(images[train]), labels[train], to_unit_range(images[heldout])


def test_digits_against_digits_score_high_and_noise_scores_zero(digits):
    train, _, heldout = digits
    real = metrics.precision_recall(train[:500], heldout)
    assert real["precision"] > 0.75 and real["recall"] > 0.75   # measured: 0.87 and 0.90
    noise = np.random.default_rng(1).uniform(-1, 1, (500, 28, 28, 1)).astype(np.float32)
    fake = metrics.precision_recall(noise, heldout)
    assert fake["precision"] < 0.05


def test_one_class_keeps_precision_and_loses_recall(digits):
    train, labels, heldout = digits
    ones = train[labels == 1][:400]
    result = metrics.precision_recall(ones, heldout)
    assert result["precision"] > 0.75     # good digits...
    assert result["recall"] < 0.25        # ...of one class of ten (measured: 0.12)


def test_images_are_scored_in_the_classifier_features(digits):
    train, _, heldout = digits
    from_images = metrics.precision_recall(train[:60], heldout[:50, ..., 0])
    features = metrics.classifier_outputs(train[:60])[0], metrics.classifier_outputs(
        heldout[:50])[0]
    assert from_images == metrics.precision_recall(*features)   # the same computation


def test_bad_inputs_are_refused(digits):
    train, _, heldout = digits
    with pytest.raises(ShapeError, match="both be images or both be features"):
        metrics.precision_recall(train[:10], metrics.classifier_outputs(heldout[:10])[0])
    with pytest.raises(ConfigError, match="more than k=3"):
        metrics.precision_recall(column(0, 1, 2), column(0, 1, 2, 3))
    with pytest.raises(ConfigError, match="k must be an integer"):
        metrics.precision_recall(column(0, 1, 2), column(0, 1, 2), k=True)
    with pytest.raises(ShapeError, match="features"):
        metrics.precision_recall(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ShapeError, match=r"\(N, 28, 28"):
        metrics.precision_recall(np.zeros((5, 2, 2, 2, 2)), np.zeros((5, 2, 2, 2, 2)))
