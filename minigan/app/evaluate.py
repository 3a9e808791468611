"""``minigan evaluate``: the quality numbers of a trained generator, from its checkpoint
(the scoring itself is ``scoring.py``, which the end of a run uses too)."""

from .run import load_trainer
from .scoring import evaluate_trainer, generate

__all__ = ["evaluate_checkpoint", "evaluate_trainer", "generate"]


def evaluate_checkpoint(path, n=2000, seed=0, backend_name=None, data=None):
    """``evaluate_trainer`` for the generator saved in a checkpoint (on ``backend_name``,
    default: the backend it was trained on; ``data``: the directory of the test split,
    default: the run's own ``data`` setting)."""
    trainer, config = load_trainer(path, backend_name)
    if data is not None:
        config.data = data
    result = evaluate_trainer(trainer, config, n, seed)
    result["checkpoint"] = path
    return result
