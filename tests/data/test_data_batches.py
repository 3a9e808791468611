"""Mini-batches: scaling to [-1, 1], NHWC float32, seeded shuffling, exact resume."""

import json

import numpy as np
import pytest
from conftest import has_gpu

from minigan import backend
from minigan.data import Batches, to_unit_range
from minigan.errors import ConfigError, DTypeError, ShapeError, StateError


def dataset(n):
    """Images whose pixels encode their index (mod 256) and labels equal to the index."""
    ids = np.arange(n)
    images = np.broadcast_to((ids % 256).astype(np.uint8)[:, None, None], (n, 28, 28)).copy()
    return images, ids


def ids_of(x, y):
    """Sample ids of a batch, checked against the pixels (labels carried along)."""
    x, y = backend.to_numpy(x), backend.to_numpy(y)
    np.testing.assert_array_equal(np.rint((x[:, 3, 5, 0] + 1) * 127.5), y % 256)
    return y.tolist()


def epochs(batches, count):
    return [[ids_of(x, y) for x, y in batches] for _ in range(count)]


def test_to_unit_range():
    x = np.array([[[0, 255], [127, 128]]], np.uint8)
    out = to_unit_range(x)
    assert out.dtype == np.float32 and out.shape == (1, 2, 2, 1)
    assert out[0, 0, 0, 0] == -1.0 and out[0, 0, 1, 0] == 1.0
    np.testing.assert_allclose(out[0, 1, :, 0], [127 / 127.5 - 1, 128 / 127.5 - 1], atol=1e-7)
    assert to_unit_range(np.zeros((2, 4, 4, 3), np.uint8)).shape == (2, 4, 4, 3)
    with pytest.raises(DTypeError, match="expected uint8"):
        to_unit_range(np.zeros((1, 28, 28), np.float32))
    with pytest.raises(ShapeError, match=r"got shape \(28, 28\)"):
        to_unit_range(np.zeros((28, 28), np.uint8))


def test_batches_are_nhwc_float32_in_unit_range(array_backend):
    images, labels = dataset(100)
    images[0, 0, 0], images[1, 0, 0] = 0, 255
    batches = Batches(images, labels, batch_size=16, seed=3)
    assert len(batches) == 6
    seen = []
    for x, y in batches:
        assert isinstance(x, array_backend.ndarray) and isinstance(y, array_backend.ndarray)
        assert x.shape == (16, 28, 28, 1) and x.dtype == np.float32
        assert -1.0 <= float(x.min()) and float(x.max()) <= 1.0
        seen += ids_of(x, y)
    assert len(seen) == 96 and len(set(seen)) == 96


def test_every_sample_once_per_epoch_when_keeping_the_last_batch():
    images, labels = dataset(50)
    batches = Batches(images, labels, batch_size=16, seed=0, drop_last=False)
    assert len(batches) == 4
    for epoch in epochs(batches, 3):
        assert [len(b) for b in epoch] == [16, 16, 16, 2]
        assert sorted(sum(epoch, [])) == list(range(50))
    assert batches.epoch == 3


def test_drop_last():
    images, labels = dataset(50)
    batches = Batches(images, labels, batch_size=16, seed=0)
    assert len(batches) == 3
    epoch = epochs(batches, 1)[0]
    assert [len(b) for b in epoch] == [16, 16, 16]
    assert len(set(sum(epoch, []))) == 48
    assert len(Batches(images, batch_size=50)) == 1
    with pytest.raises(ConfigError, match="50 samples with batch_size 64 and drop_last=True"):
        Batches(images, batch_size=64)
    assert len(Batches(images, batch_size=64, drop_last=False)) == 1


def test_seeded_shuffling_is_reproducible_and_reshuffles_each_epoch():
    images, labels = dataset(64)
    a = epochs(Batches(images, labels, batch_size=8, seed=7), 3)
    b = epochs(Batches(images, labels, batch_size=8, seed=7), 3)
    c = epochs(Batches(images, labels, batch_size=8, seed=8), 3)
    assert a == b and a != c
    assert a[0] != a[1] != a[2]
    assert sum(a[0], []) != list(range(64))  # shuffled


def test_without_labels():
    images, _ = dataset(10)
    for x, y in Batches(images, batch_size=5, seed=0):
        assert y is None and x.shape == (5, 28, 28, 1)


def test_float_images_are_taken_as_scaled():
    x = np.linspace(-1, 1, 4 * 8 * 8, dtype=np.float64).reshape(4, 8, 8, 1)
    (batch, _), = list(Batches(x, batch_size=4, seed=0))
    assert batch.dtype == np.float64
    np.testing.assert_array_equal(np.sort(batch.ravel()), x.ravel())


def test_bad_arguments():
    images, labels = dataset(10)
    with pytest.raises(ShapeError, match=r"10 images but labels of shape \(9,\)"):
        Batches(images, labels[:9], batch_size=2)
    with pytest.raises(ConfigError, match="batch_size must be a positive integer"):
        Batches(images, batch_size=0)
    with pytest.raises(DTypeError):
        Batches(images.astype(np.int32), batch_size=2)


@pytest.mark.parametrize("stop_after", [0, 1, 3, 4, 5, 7, 8, 13])
def test_resume_sees_exactly_the_uninterrupted_batches(stop_after):
    """Interrupt after ``stop_after`` batches (epochs of 4), save through JSON, resume."""
    images, labels = dataset(35)
    reference = sum(epochs(Batches(images, labels, batch_size=8, seed=11), 4), [])
    assert len(reference) == 16

    first = Batches(images, labels, batch_size=8, seed=11)
    got = []
    while len(got) < stop_after:
        for x, y in first:
            got.append(ids_of(x, y))
            if len(got) == stop_after:
                break
    state = json.loads(json.dumps(first.state_dict()))

    resumed = Batches(images, labels, batch_size=8, seed=999)  # the seed is in the state
    resumed.load_state_dict(state)
    assert resumed.epoch * 4 + resumed.position == stop_after
    while resumed.epoch < 4:
        got += [ids_of(x, y) for x, y in resumed]
    assert got == reference


def test_state_after_a_manual_next_and_an_abandoned_iterator():
    images, labels = dataset(32)
    reference = epochs(Batches(images, labels, batch_size=8, seed=1), 2)
    b = Batches(images, labels, batch_size=8, seed=1)
    got = epochs(b, 1)
    started = iter(b)
    second = [ids_of(*next(started))]  # one batch of the second epoch, then abandoned
    del started
    state = b.state_dict()
    assert (state["epoch"], state["position"]) == (1, 1)
    resumed = Batches(images, labels, batch_size=8, seed=1)
    resumed.load_state_dict(state)
    assert got + [second + [ids_of(x, y) for x, y in resumed]] == reference
    assert got + [second + [ids_of(x, y) for x, y in b]] == reference  # b goes on too


def test_state_is_plain_json_and_checked():
    images, labels = dataset(32)
    b = Batches(images, labels, batch_size=8, seed=1)
    state = b.state_dict()
    assert json.loads(json.dumps(state)) == state
    other = Batches(images, labels, batch_size=4, seed=1)
    with pytest.raises(StateError, match="saved batch_size=8, this loader has 4"):
        other.load_state_dict(state)


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="needs CuPy and a CUDA device")
def test_cupy_dataset_lives_on_the_device():
    import cupy

    images, labels = dataset(128)
    backend.use("cupy")
    b = Batches(images, labels, batch_size=32, seed=0)
    assert isinstance(b._data, cupy.ndarray)  # uploaded once
    got = [ids_of(x, y) for x, y in b]
    assert sorted(sum(got, [])) == list(range(128))
    backend.use("numpy")
    assert sum(epochs(Batches(images, labels, batch_size=32, seed=0), 1)[0], []) \
        == sum(got, [])  # same NumPy permutation on both backends
