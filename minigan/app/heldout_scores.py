"""Scoring a run against digits it never trained on.

A generator scored against its own training digits could copy them and look perfect.
So a run trains on the training split and is scored against the held-out one: with
MNIST or Fashion-MNIST files, the test split (10,000 images); with the embedded
5,000-digit sample, its fixed split (``minigan.data.heldout``): 4,500 training digits,
500 held out, the same for every run. (Runs from before the split trained on all 5,000
digits; their checkpoints say ``train_on_heldout``, they resume as they were, and
their scores are marked as not held out.)

The report itself is ``metrics.heldout_report`` (the Fréchet distance and its
real-vs-real reference, precision and recall, the copy fraction); this module finds the
run's two splits, says what the held-out images are, and draws the nearest pairs.
"""

import numpy

from ..data import to_unit_range
from ..data.datasets import load_with_source
from ..errors import InputError
from ..metrics import closest_pairs, format_heldout_report, heldout_report

NEAREST_PAIRS = 16   # the closest sample-training pairs ``--nearest`` draws
MIN_HELDOUT = 2      # held-out images a score needs: two make a covariance


def run_split(config, split):
    """(images uint8 (N, 28, 28), labels, source) of a run's split, ``source`` saying where
    it came from (``load_with_source``: embedded sample, directory or download, and how
    many). With the embedded sample: "train" is its 4,500 training digits (all 5,000 for a
    run that ``train_on_heldout``, from before the split), "test" its 500 held-out digits."""
    part = split == "test" or not config.train_on_heldout
    return load_with_source(config.dataset, split, config.data, embedded_fallback=True,
                            embedded_split=part)


def load_heldout(config, asking, instead="add images, or name other data (--data DIR)"):
    """``run_split(config, "test")``, refused (``InputError``, naming ``asking``: the flag
    or command that scores, and what to do ``instead``) when it holds fewer than
    ``MIN_HELDOUT`` images."""
    heldout, labels, source = run_split(config, "test")
    if len(heldout) < MIN_HELDOUT:
        raise InputError(f"{asking}: the test split to score against, in "
                         f"{source['path'] or source['source']}, holds {len(heldout)} "
                         f"image(s); at least {MIN_HELDOUT} are needed (a Fréchet distance "
                         f"needs a covariance): {instead}")
    return heldout, labels, source


def _embedded(source):
    return source["source"] == "embedded sample"


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
    """``metrics.heldout_report`` of ``generate(n)``'s images (n, 28, 28, 1) against the run's
    held-out split; ``nearest``: a file to draw the closest sample-training pairs into."""
    heldout, _, test_data = load_heldout(config, "scoring the samples")
    train, _, train_data = run_split(config, "train")
    train, heldout = to_unit_range(train), to_unit_range(heldout)
    fake = generate(n)
    result = heldout_report(fake, train, heldout)
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
    """The report lines of the held-out scores (after ``metrics.format_report``'s): what
    the held-out images are, then ``metrics.format_heldout_report``'s lines."""
    lines = [f"Scored against {result['heldout']}, never trained on"
             if not result.get("trained_on_heldout") else f"Scored against {result['heldout']}",
             *format_heldout_report(result).splitlines()]
    if result.get("warning"):
        lines.insert(0, f"Warning: {result['warning']}")
    if result.get("nearest_grid"):
        lines.append(f"Closest sample-training pairs: {result['nearest_grid']}")
    return lines
