"""The progress bars of a training run, and the lines that end it.

Two tqdm bars, each made to fit an 80-column terminal:

    run  12%|███▏                      | 187/1560 [00:25<03:05, 7.40step/s]
    epoch 3/20:  40%|██▍  | 31/78, loss D 1.23 G 0.567, D(x) 0.58 D(G(z)) 0.42

The first counts the steps of the whole run, so its time left is the run's; the second
the epoch's steps, with the last step's numbers (``step_numbers``): three significant
digits, the losses and D's mean outputs on real and generated images. The bars are drawn
on a terminal only: in a log file the run bar's frames would pile up and the epoch bar's
cursor movements stay as escape codes (every step's numbers are in metrics.jsonl anyway);
there the run's progress is a plain line now and then (``plain_progress``).
"""

import glob
import os
import sys

from tqdm import tqdm

from .plain_progress import PlainProgress

EPOCH_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix}"
"""The epoch bar's layout: no times or rate (the run bar has them), room for the numbers."""


def run_bar(total, initial, enabled=True, **options):
    """The bar of the whole run: ``initial`` of ``total`` generator steps done. ``options``
    go to tqdm, in place of these (a test passes ``file`` and ``ncols``). Where it writes
    is not a terminal, a ``PlainProgress`` instead: a plain line every tenth of the run or
    every minute."""
    stream = options.get("file") or sys.stderr
    if enabled and not getattr(stream, "isatty", lambda: False)():
        return PlainProgress(total, initial, file=options.get("file"))
    return tqdm(**{"total": total, "initial": initial, "desc": "run", "unit": "step",
                   "disable": not enabled, "dynamic_ncols": True, "position": 0, **options})


def epoch_bar(epoch, epochs, total, initial, enabled=True, **options):
    """The bar of epoch ``epoch`` (1-based) of ``epochs``, below the run's; cleared when
    it closes. Drawn only where it writes (``options["file"]``, else stderr) is a
    terminal."""
    stream = options.get("file") or sys.stderr
    on_terminal = bool(getattr(stream, "isatty", lambda: False)())
    return tqdm(**{"total": total, "initial": initial, "desc": f"epoch {epoch}/{epochs}",
                   "bar_format": EPOCH_FORMAT, "disable": not (enabled and on_terminal),
                   "dynamic_ncols": True, "position": 1, "leave": False, **options})


def step_numbers(stats):
    """A step's numbers for the epoch bar, e.g. "loss D 1.23 G 0.567, D(x) 0.58 D(G(z))
    0.42" (D(x), D(G(z)): the objective's mean outputs, probabilities for the BCE losses)."""
    return (f"loss D {stats['loss_d']:.3g} G {stats['loss_g']:.3g}, "
            f"D(x) {stats['d_real']:.3g} D(G(z)) {stats['d_fake']:.3g}")


def run_total(steps_per_epoch, epochs, max_steps=None):
    """The generator steps a run will take: its epochs, or ``max_steps`` if fewer."""
    total = steps_per_epoch * epochs
    return total if max_steps is None else min(total, max_steps)


def where_things_are(run_dir, scored=False):
    """The lines that end a run: where its last sample grid, its curves, its checkpoint,
    a progressive run's stage figure and (``scored``: evaluated at its end) its scores
    are; only files that exist."""
    grids = sorted(glob.glob(os.path.join(glob.escape(run_dir), "samples", "epoch_*.png")))
    named = [("samples", grids[-1] if grids else None),
             ("stages", os.path.join(run_dir, "samples", "stages.png")),
             ("curves", os.path.join(run_dir, "curves.png")),
             ("checkpoint", os.path.join(run_dir, "checkpoints", "last.npz")),
             ("scores", os.path.join(run_dir, "summary.json") if scored else None)]
    return [f"  {label + ':':<12}{path}" for label, path in named
            if path is not None and os.path.isfile(path)]
