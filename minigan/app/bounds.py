"""Upper bounds on the counts a command may ask for: what fits, refused up front.

A count with no upper bound is a request for memory or time that no machine has: ``train
--evaluate 100000000`` trains for an hour and then asks for 300 GB of samples, ``sample
--n 20000`` a figure 4,000 pixels wide, a checkpoint storing ``d_steps: 10**12`` a first
step that never ends and ``latent_dim: 10**30`` an array numpy cannot make. Each bound
here is far above any real use and far below what breaks, and is checked with the other
rules of a run's settings (``validate_config``: the command line, ``train()`` from Python,
a checkpoint's stored settings) or by the command line (``sample --n``, ``evaluate --n``,
``--threads``, ``$MINIGAN_NUM_THREADS``) before any data is loaded or file written.
"""

import os

from ..errors import InputError

MAX_EVALUATE = 100_000
"""Samples scored at once (``--evaluate``, ``evaluate --n``): 314 MB of 28x28 float32
images; the Fréchet distance of MNIST's 10,000 test digits needs far fewer."""
MAX_GRID = 2_500
"""Images in one sample grid (``sample --n``, a run's ``sample_count``): 50 x 50 tiles,
a figure 1,400 pixels wide."""
MAX_LATENT_DIM = 4_096
"""The size of z: the DCGAN's first layer then holds 4,096 x 12,544 weights (205 MB,
three times that with Adam's moments)."""
MAX_D_STEPS = 100
"""D updates per G update (WGAN's papers use 5)."""
MAX_EPOCHS = 1_000_000
MAX_STEPS = 10**12
"""Generator steps (``--max-steps``, a checkpoint's step counters): far beyond any run,
far inside int64."""
MAX_STAGE_STEPS = 10**9
MAX_THREADS = 1_024
"""CPU threads for minigan's pieces (``--threads``, ``$MINIGAN_NUM_THREADS``)."""


def check_count(flag, value, low, high, why=""):
    """``InputError`` unless ``low <= value <= high`` (``why``: what the bound protects)."""
    if not low <= value <= high:
        raise InputError(f"{flag}: expected an integer from {low:,} to {high:,}{why}, got "
                         f"{value}")


def check_threads_env():
    """``$MINIGAN_NUM_THREADS``, if set, is a thread count from 1 to ``MAX_THREADS``
    (refused here, before any work, rather than at the first training step)."""
    text = os.environ.get("MINIGAN_NUM_THREADS")
    if not text:
        return
    stripped = text.strip()
    if not stripped.isdigit() or not 1 <= int(stripped) <= MAX_THREADS:
        raise InputError(f"$MINIGAN_NUM_THREADS: expected an integer from 1 to "
                         f"{MAX_THREADS:,} (CPU threads), got {text!r}")
