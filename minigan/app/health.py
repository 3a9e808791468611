"""Health diagnostics of a run: the failure modes a run can show while every number in it
stays finite, named at the end of each epoch and kept in ``summary.json``.

A run whose learning rates are far too high need not produce a NaN: D's outputs pin at
0 or 1, the losses reach 1e5 or more, and G's gradient is exactly zero at many steps
(the saturated sigmoid passes nothing back) -- and the run would "finish". From an
epoch's metrics records (``Trainer.step``'s numbers), ``epoch_findings`` names:

* **D saturates**: in at least half of the epoch's steps the mean D(x) or D(G(z)) is
  within ``SATURATED`` of 0 or 1 (objectives whose D outputs are probabilities: the BCE
  losses). D has won, or swings between the two extremes.
* **a loss explodes**: the median |loss_d| or |loss_g| over the epoch is above
  ``EXPLODED`` (losses of a working run are of order 1 to 10).
* **G's gradient vanishes**: ``grad_norm_g`` is below ``VANISHED`` in at least a quarter
  of the epoch's steps: G is not learning at those steps.

Each finding is a dict {"epoch", "problem", "detail"}; ``describe`` makes the line a user
sees (one per epoch), pointing to the training guide's section on what failure looks like.
"""

import math
import statistics

SATURATED = 0.01
EXPLODED = 1e3
VANISHED = 1e-6
GUIDE = "docs/training_guide.md, 'What failure looks like'"


def epoch_findings(records, epoch, probabilities):
    """The findings for the records of one epoch (1-based ``epoch``); ``probabilities``:
    whether D's reported outputs are probabilities (``objective.sigmoid_outputs``)."""
    if not records:
        return []
    n, found = len(records), []

    def add(problem, detail):
        found.append({"epoch": epoch, "problem": problem, "detail": detail})

    if probabilities:
        pinned = sum(1 for r in records if _pinned(r.get("d_real")) or _pinned(r.get("d_fake")))
        if 2 * pinned >= n:
            add("D saturates", f"mean D(x) or D(G(z)) within {SATURATED} of 0 or 1 in "
                               f"{pinned} of {n} steps (medians D(x) "
                               f"{_median(records, 'd_real'):.3f}, D(G(z)) "
                               f"{_median(records, 'd_fake'):.3f})")
    exploded = [f"|{key}| {_median(records, key, abs):.3g}" for key in ("loss_d", "loss_g")
                if _median(records, key, abs) > EXPLODED]
    if exploded:
        add("a loss explodes", f"medians {' and '.join(exploded)}, above {EXPLODED:g}")
    vanished = sum(1 for r in records
                   if _number(r.get("grad_norm_g")) and r["grad_norm_g"] < VANISHED)
    if 4 * vanished >= n:
        add("G's gradient vanishes", f"grad_norm_g below {VANISHED:g} in {vanished} of {n} "
                                     "steps")
    return found


def run_findings(records, steps_per_epoch, probabilities, epoch=None):
    """``epoch_findings`` for every epoch the records cover (step k is in epoch
    (k - 1) // steps_per_epoch + 1), or for ``epoch`` alone."""
    by_epoch = {}
    for record in records:
        number = (record["step"] - 1) // steps_per_epoch + 1
        if epoch is None or number == epoch:
            by_epoch.setdefault(number, []).append(record)
    return [finding for epoch, part in sorted(by_epoch.items())
            for finding in epoch_findings(part, epoch, probabilities)]


def describe(findings):
    """One line for one epoch's findings: "health: epoch 2: D saturates (...); a loss
    explodes (...); see <the guide's section>"."""
    found = "; ".join(f"{f['problem']} ({f['detail']})" for f in findings)
    return f"health: epoch {findings[0]['epoch']}: {found}; see {GUIDE}"


def _number(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def _pinned(value):
    return _number(value) and (value < SATURATED or value > 1 - SATURATED)


def _median(records, key, how=float):
    values = [how(r[key]) for r in records if _number(r.get(key))]
    return statistics.median(values) if values else math.nan
