"""Memorisation (``metrics.memorisation``) and the nearest-neighbour search under it: a
generator that hands back training digits scores a copy fraction near 1, held-out
digits and noise near 0; the blocked search equals the brute-force one on every backend."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan import metrics
from minigan.data import load_embedded_mnist, to_unit_range
from minigan.errors import ConfigError, ShapeError
from minigan.metrics import neighbours


@pytest.fixture(scope="module")
def split():
    """(training digits, held-out digits) of the embedded sample, in [-1, 1], shuffled
    (the sample is stored class by class)."""
    digits, labels = load_embedded_mnist(quiet=True)
    train, heldout = metrics.heldout_split(labels)
    rng = np.random.default_rng(0)
    images = to_unit_range(digits)
    return images[rng.permutation(train)], images[rng.permutation(heldout)]


def test_training_digits_are_copies_and_heldout_digits_are_not(split):
    train, heldout = split
    reference, fresh = heldout[:250], heldout[250:]   # threshold from one half only
    copier = metrics.memorisation(train[:300], train, reference)
    assert copier["copy_fraction"] >= 0.9
    assert copier["median_distance"] < 1e-3 < copier["heldout_median_distance"]
    honest = metrics.memorisation(fresh, train, reference)
    assert honest["copy_fraction"] <= 0.1
    # by construction, 1% of the reference digits lie below their own 1st percentile
    assert honest["heldout_copy_fraction"] == pytest.approx(0.01, abs=0.005)
    assert honest["n_samples"] == 250 and honest["n_train"] == 4500
    assert honest["n_heldout"] == 250 and honest["percentile"] == 1.0


def test_a_copier_with_a_little_noise_is_still_caught(split):
    train, heldout = split
    noisy = train[:200] + np.random.default_rng(1).normal(0, 0.03, train[:200].shape)
    result = metrics.memorisation(np.clip(noisy, -1, 1).astype(np.float32), train, heldout)
    assert result["copy_fraction"] >= 0.9


def test_noise_is_no_copy(split):
    train, heldout = split
    noise = np.random.default_rng(2).uniform(-1, 1, (200, 28, 28, 1)).astype(np.float32)
    result = metrics.memorisation(noise, train, heldout[..., 0])
    assert result["copy_fraction"] == 0.0
    assert result["median_distance"] > 2 * result["heldout_median_distance"]


def test_nhwc_and_plain_images_give_the_same_numbers(split):
    train, heldout = split
    nhwc = metrics.memorisation(heldout[:50], train[:500], heldout[50:150])
    plain = metrics.memorisation(heldout[:50, ..., 0], train[:500, ..., 0],
                                 heldout[50:150, ..., 0])
    mixed = metrics.memorisation(heldout[:50, ..., 0], train[:500], heldout[50:150])
    assert plain == nhwc == mixed   # the same arrays reshaped: the same computation


def test_closest_pairs_finds_the_planted_copies(split):
    train, heldout = split
    samples = np.concatenate([heldout[:30], train[[7, 11]]])
    order, partners, distances = metrics.closest_pairs(samples, train, count=3)
    assert sorted(order[:2].tolist()) == [30, 31]
    assert sorted(partners[:2].tolist()) == [7, 11]
    assert distances[0] == pytest.approx(0, abs=1e-5) and distances[2] > 1


def brute_nearest(queries, reference):
    d = np.sqrt(((queries[:, None, :] - reference[None, :, :]) ** 2).sum(-1))
    return d.min(axis=1), d.argmin(axis=1)


@given(n=st.integers(1, 12), m=st.integers(1, 9), d=st.integers(1, 7),
       block=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_blocked_nearest_equals_brute_force(n, m, d, block, seed, monkeypatch):
    rng = np.random.default_rng(seed)
    queries, reference = rng.normal(size=(n, d)), rng.normal(size=(m, d))
    monkeypatch.setattr(neighbours, "BLOCK_ELEMENTS", block)   # many blocks, or one
    distances, indices = neighbours.nearest(queries, reference)
    want_distances, want_indices = brute_nearest(queries, reference)
    # the expansion ||q||^2 - 2 q.r + ||r||^2 in float64 on values of size ~1: the squared
    # distance is off by a few ulps of ||q||^2 + ||r||^2 (~1e-15), so its root by ~1e-7
    # at worst when the distance itself is tiny
    np.testing.assert_allclose(distances, want_distances, rtol=1e-9, atol=1e-7)
    assert indices.tolist() == want_indices.tolist()   # continuous draws: no ties


def test_nearest_on_every_backend(array_backend):
    rng = np.random.default_rng(3)
    queries, reference = rng.normal(size=(20, 6)), rng.normal(size=(15, 6))
    distances, indices = neighbours.nearest(array_backend.asarray(queries),
                                            array_backend.asarray(reference))
    assert isinstance(distances, np.ndarray) and isinstance(indices, np.ndarray)
    want_distances, want_indices = brute_nearest(queries, reference)
    # float64 on either device; another BLAS may sum the 6 products in another order
    np.testing.assert_allclose(distances, want_distances, rtol=1e-9, atol=1e-7)
    assert indices.tolist() == want_indices.tolist()


def test_memorisation_on_every_backend(array_backend, split):
    train, heldout = split
    on_device = metrics.memorisation(array_backend.asarray(train[:40]),
                                     array_backend.asarray(train[:400]),
                                     array_backend.asarray(heldout[:100]))
    assert on_device["copy_fraction"] == 1.0
    assert all(isinstance(v, (int, float)) for v in on_device.values())


def test_bad_inputs_are_refused_with_what_was_expected(split):
    train, heldout = split
    with pytest.raises(ConfigError, match=r"in \[-1, 1\].*to_unit_range"):
        metrics.memorisation(train[:5] * 255, train, heldout)
    with pytest.raises(ConfigError, match="floating"):
        metrics.memorisation((train[:5] > 0).astype(np.uint8), train, heldout)
    with pytest.raises(ShapeError, match="differ in shape"):
        metrics.memorisation(train[:5, :14], train, heldout)
    with pytest.raises(ShapeError, match="heldout"):
        metrics.memorisation(train[:5], train, heldout[:, :14])
    with pytest.raises(ShapeError, match=r"\(N, H, W\)"):
        metrics.memorisation(train[0, ..., 0], train, heldout)
    with pytest.raises(ShapeError, match="N >= 1"):
        metrics.memorisation(train[:0], train, heldout)
    with pytest.raises(ConfigError, match="percentile"):
        metrics.memorisation(train[:5], train, heldout, percentile=0)
    with pytest.raises(ConfigError, match="count"):
        metrics.closest_pairs(train[:5], train, count=0)
