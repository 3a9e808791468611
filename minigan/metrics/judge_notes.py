"""What the MNIST classifier's numbers mean on another dataset.

``minigan evaluate`` judges every run with one small MNIST *digit* classifier
(``classifier.py``). On Fashion-MNIST its ten classes are the digits it reads into
clothes, so "classes present", the KL to uniform and the mean confidence say how varied
and how digit-like the samples look to it, not which garments appear: the real
Fashion-MNIST test images themselves score 7/10 classes present, a KL of 1.01 and a mean
confidence of 0.88, and those -- not 10/10, 0 and 1 -- are what a perfect generator would
get. The Fréchet distance in its features still compares generated with real images of
the dataset: 1.05 between two disjoint parts of the real test set, 394 for uniform noise.
(``REFERENCE``: 2,000 of the 10,000 test images, drawn with ``default_rng(0)``, against
5,000 others; ``tests/docs/test_judge_notes.py`` recomputes them from Debian's
dataset-fashion-mnist.)
"""

__all__ = ["REFERENCE", "judge_note"]

REFERENCE = {
    "fashion-mnist": {"real": {"classes_present": 7, "kl_to_uniform": 1.01,
                               "mean_confidence": 0.88, "frechet_distance": 1.05},
                      "noise": {"frechet_distance": 394}},
}
"""The classifier's numbers for real test images of a dataset, and the Fréchet distance
of uniform noise in [-1, 1] against them."""


def judge_note(dataset):
    """The lines a report on ``dataset`` starts with when it is not MNIST ([] for MNIST)."""
    if dataset in (None, "mnist"):
        return []
    ref = REFERENCE.get(dataset)
    lines = [f"Note: the judge is an MNIST digit classifier. On {dataset} its classes are the "
             "digits it reads into the images, so classes present, KL and confidence say how "
             "varied the samples look to it, not which classes appear;"]
    if ref is None:
        return lines + ["  compare these numbers between runs only."]
    real, noise = ref["real"], ref["noise"]
    return lines + [
        f"  real {dataset} test images score {real['classes_present']}/10 classes, KL "
        f"{real['kl_to_uniform']:.2f}, confidence {real['mean_confidence']:.2f}: compare with "
        "those. The Frechet distance compares with real images: real vs real "
        f"{real['frechet_distance']:.2f}, noise {noise['frechet_distance']:.0f}."]
