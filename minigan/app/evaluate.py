"""``minigan evaluate``: the quality numbers of a trained generator, from its checkpoint
(the scoring itself is ``scoring.py``, which the end of a run uses too)."""

from ..data.embedded import notice_once
from .run import load_trainer
from .scoring import evaluate_trainer, generate

__all__ = ["evaluate_checkpoint", "evaluate_trainer", "generate"]


@notice_once()   # the training and the test split: one notice about the embedded sample
def evaluate_checkpoint(path, n=2000, seed=0, backend_name=None, data=None, nearest=None):
    """``evaluate_trainer`` for the generator saved in a checkpoint (on ``backend_name``,
    default: the backend it was trained on; ``data``: the directory of the training and
    test splits, default: the run's own ``data`` setting; ``nearest``: a file for the grid
    of the closest sample-training pairs)."""
    trainer, config = load_trainer(path, backend_name)
    if data is not None:
        config.data = data
    result = evaluate_trainer(trainer, config, n, seed, nearest)
    result["checkpoint"] = path
    return result
