"""The embedded sample's fixed train / test split: 4,500 training and 500 held-out digits,
the same every time, disjoint, and what ``load_dataset(..., embedded_split=True)`` falls
back to for each split."""

import numpy as np
import pytest

from minigan import data, metrics
from minigan.data import datasets
from minigan.errors import ConfigError


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no $MINIGAN_DATA, no download."""
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setattr(datasets, "CACHE_ROOT", str(tmp_path / "cache"))


def test_the_two_parts_are_fixed_disjoint_and_make_the_whole():
    whole, labels = data.load_embedded_mnist(quiet=True)
    train, train_labels = data.load_embedded_mnist(quiet=True, split="train")
    test, test_labels = data.load_embedded_mnist(quiet=True, split="test")
    assert train.shape == (4500, 28, 28) and test.shape == (500, 28, 28)
    assert np.bincount(test_labels).tolist() == [50] * 10
    assert np.bincount(train_labels).tolist() == [450] * 10
    train_index, test_index = metrics.heldout_split(labels)   # the classifier's split
    assert np.array_equal(train, whole[train_index]) and np.array_equal(test, whole[test_index])
    rows = {image.tobytes() for image in train}
    assert not any(image.tobytes() in rows for image in test)
    again, _ = data.load_embedded_mnist(quiet=True, split="test")
    assert np.array_equal(again, test)
    with pytest.raises(ConfigError, match="split must be None, 'train' or 'test'"):
        data.load_embedded_mnist(quiet=True, split="validation")


def test_load_dataset_falls_back_to_the_splits_part(capsys):
    train, _ = data.load_mnist("train", download=False, embedded_fallback=True,
                               embedded_split=True)
    test, _ = data.load_mnist("test", download=False, embedded_fallback=True,
                              embedded_split=True)
    whole, _ = data.load_mnist("test", download=False, embedded_fallback=True)
    assert (len(train), len(test), len(whole)) == (4500, 500, 5000)
    err = capsys.readouterr().err
    assert err.count("using the embedded MNIST sample") == 3
    assert err.count("training on 4,500 of them, scoring against the other 500") == 2
