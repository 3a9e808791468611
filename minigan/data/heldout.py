"""The fixed train / held-out split of a labelled set, and of the embedded MNIST sample.

A generator scored against the digits it trained on can look perfect by copying them,
so minigan scores it against digits it never saw. MNIST and Fashion-MNIST have a test
split for that; the embedded 5,000-digit sample is split here, the same way for every
run: 50 digits of every class (500) held out, drawn with ``numpy.random.default_rng(0)``,
and the other 4,500 for training. The shipped classifier of ``minigan.metrics`` was
trained on the same 4,500 (``scripts/train_classifier.py``), so the held-out 500 are
new to it as well.
"""

import numpy

from .. import backend
from ..errors import ConfigError

NUM_CLASSES = 10
EMBEDDED_HELDOUT_PER_CLASS = 50
"""Held-out digits per class of the embedded sample (500 of its 5,000)."""
SPLIT_SEED = 0


def heldout_split(labels, per_class=EMBEDDED_HELDOUT_PER_CLASS, seed=SPLIT_SEED):
    """The fixed, stratified train / held-out split of a labelled set (host NumPy).

    labels (N,) integers in [0, 10) -> (train_indices, heldout_indices), both sorted
    int64 arrays; the held-out part has ``per_class`` samples of every class, drawn
    with ``numpy.random.default_rng(seed)``. With the embedded 5,000-digit sample:
    4,500 training and 500 held-out digits.
    """
    labels = backend.to_numpy(labels)
    rng = numpy.random.default_rng(seed)
    heldout = []
    for digit in range(NUM_CLASSES):
        members = numpy.flatnonzero(labels == digit)
        if len(members) < per_class:
            raise ConfigError(f"heldout_split: class {digit} has {len(members)} samples, "
                              f"fewer than per_class={per_class}")
        heldout.append(rng.permutation(members)[:per_class])
    heldout = numpy.sort(numpy.concatenate(heldout))
    train = numpy.setdiff1d(numpy.arange(len(labels)), heldout)
    return train, heldout
