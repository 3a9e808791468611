"""Scoring a run against digits it never trained on.

A generator scored against its own training digits could copy them and look perfect.
So a run trains on the training split and is scored against the held-out one: with
MNIST or Fashion-MNIST files, the test split (10,000 images); with the embedded
5,000-digit sample, its fixed split (``minigan.data.heldout``): 4,500 training digits,
500 held out, the same for every run. (Runs from before the split trained on all 5,000
digits; their checkpoints say ``train_on_heldout``, they resume as they were, and
their scores are marked as not held out.)

What ``held_out_scores`` adds to the classifier's report (``metrics.evaluate_samples``
of the n samples against the held-out images):

- ``reference_frechet_distance``: the same Fréchet distance for n *real training*
  digits against the same held-out images -- the value a perfect generator would get
  at these sample sizes (FD is biased upwards for small sets, so compare with this,
  not with 0);
- ``precision``, ``recall`` (``metrics.precision_recall``, k = 3) of m samples against
  m held-out images, m = min(n, held-out images), and ``reference_precision`` /
  ``reference_recall`` of m training digits against the same m held-out images;
- ``copy_fraction`` and the rest of ``metrics.memorisation``: all n samples against
  every training image, with the copy threshold from the same m held-out images.

The real digits of the references are a fixed random subset (``REFERENCE_SEED``).
"""

import numpy

from ..data import to_unit_range
from ..data.datasets import load_with_source
from ..metrics import closest_pairs, evaluate_samples, frechet_distance, memorisation
from ..metrics.classifier import classifier_outputs
from ..metrics.precision_recall import DEFAULT_K, precision_recall

REFERENCE_SEED = 0
NEAREST_PAIRS = 16   # the closest sample-training pairs ``--nearest`` draws


def run_split(config, split):
    """(images uint8 (N, 28, 28), labels, source) of a run's split, ``source`` saying where
    it came from (``load_with_source``: embedded sample, directory or download, and how
    many). With the embedded sample: "train" is its 4,500 training digits (all 5,000 for a
    run that ``train_on_heldout``, from before the split), "test" its 500 held-out digits."""
    part = split == "test" or not config.train_on_heldout
    return load_with_source(config.dataset, split, config.data, embedded_fallback=True,
                            embedded_split=part)


def _embedded(source):
    return source["source"] == "embedded sample"


def held_out_scores(fake, train, heldout, k=DEFAULT_K):
    """The report of ``fake`` against ``heldout``, with the references and memorisation.

    fake (n, 28, 28, 1), train (M, 28, 28, 1), heldout (H, 28, 28, 1): floats in [-1, 1].
    Returns ``metrics.evaluate_samples(fake, heldout)`` plus the keys of the module
    docstring; Python numbers only.
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


def heldout_note(config, train_embedded, test_embedded, n_heldout):
    """What the held-out images are, and whether the run trained on them, for the report."""
    if test_embedded:
        where = f"the embedded sample's {n_heldout} held-out digits"
        if train_embedded and config.train_on_heldout:
            return {"heldout": where, "trained_on_heldout": True,
                    "warning": "this run trained on all 5,000 embedded digits (from before "
                               "the held-out split): these scores are not held out"}
    else:
        where = f"the {config.dataset} test split ({n_heldout} images)"
    return {"heldout": where, "trained_on_heldout": False}


def score_generator(generate, config, n, nearest=None):
    """``held_out_scores`` of ``generate(n)``'s images (n, 28, 28, 1) against the run's
    held-out split; ``nearest``: a file to draw the closest sample-training pairs into."""
    heldout, _, test_data = run_split(config, "test")
    train, _, train_data = run_split(config, "train")
    train, heldout = to_unit_range(train), to_unit_range(heldout)
    fake = generate(n)
    result = held_out_scores(fake, train, heldout)
    result.update(heldout_note(config, _embedded(train_data), _embedded(test_data),
                               len(heldout)))
    result["test_data"] = test_data  # where the held-out images came from
    if nearest is not None:
        write_nearest_grid(fake, train, nearest, result["memorisation"]["threshold"])
        result["nearest_grid"] = str(nearest)
    return result


def write_nearest_grid(fake, train, path, threshold, count=NEAREST_PAIRS):
    """A grid of the ``count`` samples nearest the training set, each followed by its
    nearest training image: the picture to check a copy fraction by eye."""
    from ..plots import save_image_grid

    order, partners, distances = closest_pairs(fake, train, count=min(count, len(fake)))
    pairs = numpy.stack([fake[order], train[partners]], axis=1).reshape(
        (-1,) + tuple(fake.shape[1:]))
    title = (f"generated | nearest training digit, closest pairs first\npixel distances "
             f"{distances[0]:.2f} to {distances[-1]:.2f}; a copy is below {threshold:.2f}")
    save_image_grid(pairs, path, columns=8, title=title)


def format_heldout_lines(result):
    """The report lines of the held-out scores (after ``metrics.format_report``'s)."""
    lines = [f"Scored against {result['heldout']}, never trained on"
             if not result.get("trained_on_heldout") else f"Scored against {result['heldout']}",
             f"  real vs real at these sizes ({result['n_reference']} training digits): "
             f"Frechet distance {result['reference_frechet_distance']:.3f}",
             f"Precision (fidelity) {_number(result['precision'])}   recall (diversity) "
             f"{_number(result['recall'])}   (k={result['precision_recall_k']}, "
             f"{result['precision_recall_n']} vs {result['precision_recall_n']}; real vs "
             f"real: {_number(result['reference_precision'])} / "
             f"{_number(result['reference_recall'])})",
             f"Copy fraction {result['copy_fraction']:.3f}: samples nearer a training digit "
             f"than 99% of held-out digits are (pixel distance < "
             f"{result['memorisation']['threshold']:.2f}; a new digit scores ~0.01, a copier ~1)"]
    if result.get("warning"):
        lines.insert(0, f"Warning: {result['warning']}")
    if result.get("nearest_grid"):
        lines.append(f"Closest sample-training pairs: {result['nearest_grid']}")
    return lines


def _number(value):
    return "n/a" if value is None else f"{value:.3f}"
