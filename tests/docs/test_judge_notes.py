"""What a report on Fashion-MNIST says about its MNIST-classifier judge, and that the
reference numbers it quotes are what the classifier gives on the real images."""

import os

import numpy as np
import pytest

from minigan.metrics import evaluate_samples, format_report
from minigan.metrics.judge_notes import REFERENCE, judge_note

DEBIAN = "/usr/share/datasets/fashion-mnist"


def report(dataset):
    counts = [10] * 10
    return format_report({"frechet_distance": 12.5, "n_fake": 100, "n_real": 100,
                          "class_histogram": counts, "classes_present": 10,
                          "kl_to_uniform": 0.0, "mean_confidence": 0.9, "dataset": dataset})


def test_a_fashion_mnist_report_explains_its_judge():
    lines = report("fashion-mnist").splitlines()
    assert lines[0].startswith("Note: the judge is an MNIST digit classifier. On fashion-mnist ")
    assert lines[1] == ("  real fashion-mnist test images score 7/10 classes, KL 1.01, "
                        "confidence 0.88: compare with those. The Frechet distance compares "
                        "with real images: real vs real 1.05, noise 394.")
    assert lines[2].startswith("Frechet distance")
    assert report("mnist").splitlines()[0].startswith("Frechet distance")
    assert judge_note("emnist")[-1] == "  compare these numbers between runs only."


@pytest.mark.skipif(not os.path.isdir(DEBIAN), reason="Debian's dataset-fashion-mnist is not "
                                                      "installed")
def test_the_reference_numbers_are_the_classifiers_on_real_fashion_mnist(monkeypatch):
    from minigan import data
    from minigan.data import datasets

    monkeypatch.setattr(datasets, "DEBIAN_FASHION_DIR", DEBIAN)
    images, _ = data.load_fashion_mnist("test", download=False)
    x = data.to_unit_range(images)
    order = np.random.default_rng(0).permutation(len(x))
    real, ref = evaluate_samples(x[order[:2000]], x[order[5000:]]), REFERENCE["fashion-mnist"]
    assert real["classes_present"] == ref["real"]["classes_present"]
    for key in ("kl_to_uniform", "mean_confidence", "frechet_distance"):
        assert round(real[key], 2) == ref["real"][key], key   # quoted to two decimals
    noise = np.random.default_rng(0).uniform(-1, 1, (2000, 28, 28, 1)).astype("float32")
    assert round(evaluate_samples(noise, x[order[5000:]])["frechet_distance"]) == \
        ref["noise"]["frechet_distance"]
