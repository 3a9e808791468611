"""A generator's report against images it never trained on, with its references.

``heldout_report(fake, train, heldout)`` is ``evaluate_samples(fake, heldout)`` (the
Fréchet distance in the shipped classifier's features, classes, KL to uniform,
confidence) plus what tells a good generator from a copier or a collapsed one:

- ``reference_frechet_distance``: the same Fréchet distance for n *real training*
  images against the same held-out images -- the value a perfect generator would get
  at these sample sizes (FD is biased upwards for small sets, so compare with this,
  not with 0);
- ``precision``, ``recall`` (``precision_recall``, k = 3) of m samples against m
  held-out images, m = min(n, held-out images), and ``reference_precision`` /
  ``reference_recall`` of m training images against the same m held-out images;
- ``copy_fraction`` and the rest of ``memorisation``: all n samples against every
  training image, with the copy threshold from the same m held-out images.

The real images of the references are a fixed random subset (``REFERENCE_SEED``), so
the same call gives the same numbers.
"""

import numpy

from .classifier import classifier_outputs, evaluate_samples, frechet_distance
from .memorisation import memorisation
from .precision_recall import DEFAULT_K, precision_recall

REFERENCE_SEED = 0


def heldout_report(fake, train, heldout, k=DEFAULT_K):
    """The report of ``fake`` against ``heldout``, with the references and memorisation.

    fake (n, 28, 28, 1), train (M, 28, 28, 1), heldout (H, 28, 28, 1): floats in [-1, 1].
    Returns ``evaluate_samples(fake, heldout)`` plus the keys of the module docstring;
    Python numbers only.
    """
    rng = numpy.random.default_rng(REFERENCE_SEED)
    reference = train[rng.permutation(len(train))[:len(fake)]]
    m = min(len(fake), len(heldout))
    held_m = heldout[rng.permutation(len(heldout))[:m]]
    result = evaluate_samples(fake, heldout)
    result["reference_frechet_distance"] = frechet_distance(
        classifier_outputs(reference)[0], classifier_outputs(heldout)[0])
    result["n_reference"] = int(len(reference))
    result.update(precision=None, recall=None, reference_precision=None,
                  reference_recall=None, precision_recall_n=m, precision_recall_k=k)
    if m > k:   # the k-th neighbour needs k + 1 points (none for a 2- or 3-sample score)
        scores = precision_recall(fake[:m], held_m, k)
        real = precision_recall(reference[:m], held_m, k)
        result.update(precision=scores["precision"], recall=scores["recall"],
                      reference_precision=real["precision"], reference_recall=real["recall"])
    result["memorisation"] = memorisation(fake, train, held_m)
    result["copy_fraction"] = result["memorisation"]["copy_fraction"]
    return result


def format_heldout_report(result):
    """The text of ``heldout_report``'s own numbers (to print after ``format_report``'s):
    the real-vs-real reference, precision and recall, the copy fraction."""
    n, k = result["precision_recall_n"], result["precision_recall_k"]
    return "\n".join([
        f"  real vs real at these sizes ({result['n_reference']} training images): "
        f"Frechet distance {result['reference_frechet_distance']:.3f}",
        f"Precision (fidelity) {_number(result['precision'])}   recall (diversity) "
        f"{_number(result['recall'])}   (k={k}, {n} vs {n}; real vs real: "
        f"{_number(result['reference_precision'])} / {_number(result['reference_recall'])})",
        f"Copy fraction {result['copy_fraction']:.3f}: samples nearer a training image "
        f"than 99% of held-out images are (pixel distance < "
        f"{result['memorisation']['threshold']:.2f}; new images score ~0.01, a copier ~1)"])


def _number(value):
    return "n/a" if value is None else f"{value:.3f}"
