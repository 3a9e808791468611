"""How ``minigan sample`` lays out a grid: an unconditional generator's ``n`` samples in a
square; a conditional one's one class per row, each row labelled with its class
("3", or "3 Dress" for Fashion-MNIST), at least ``n`` samples in all (``ceil(n / 10)`` of
each class); with ``label``, ``n`` samples of that one class."""

import math

from .. import backend
from ..errors import InputError

__all__ = ["CLASS_NAMES", "GridLayout", "grid_layout"]

CLASS_NAMES = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion-mnist": ["0 T-shirt/top", "1 Trouser", "2 Pullover", "3 Dress", "4 Coat",
                      "5 Sandal", "6 Shirt", "7 Sneaker", "8 Bag", "9 Ankle boot"],
}
"""What each class of a dataset is called on the grid's rows (Fashion-MNIST's names are
those of Xiao et al. 2017)."""


class GridLayout:
    """``n`` samples with ``labels`` (a backend array, or None), in ``columns`` columns,
    with ``row_labels`` (or None) and a ``note`` for the title and the line printed."""

    def __init__(self, n, labels=None, columns=None, row_labels=None, note=""):
        self.n, self.labels, self.columns = n, labels, columns
        self.row_labels, self.note = row_labels, note


def grid_layout(trainer, n, dataset="mnist", label=None, model="this"):
    """The layout of ``n`` samples of ``trainer``'s generator; ``label``: only that class
    (an ``InputError`` for an unconditional generator or a class it does not have)."""
    classes = getattr(trainer.G, "num_classes", None)
    if classes is None:
        if label is not None:
            raise InputError(f"--label {label}: the checkpoint's generator ({model} model) is "
                             "not conditional and takes no label; leave --label out")
        return GridLayout(n)
    names = CLASS_NAMES.get(dataset, [str(c) for c in range(classes)])
    if len(names) != classes:
        names = [str(c) for c in range(classes)]
    if label is not None:
        if not 0 <= label < classes:
            raise InputError(f"--label: expected a class from 0 to {classes - 1}, got {label}")
        return GridLayout(n, backend.xp.full((n,), label, dtype=backend.xp.int64),
                          note=f"class {names[label]}")
    per_class = math.ceil(n / classes)
    labels = backend.xp.repeat(backend.xp.arange(classes), per_class)
    return GridLayout(per_class * classes, labels, per_class, names,
                      note=f"{per_class} of each class, one class per row")
