"""A training run's checkpoints: what one holds, where it is written, and the one way a
stopped run ends (its checkpoint saved, then ``TrainingInterrupted``)."""

import dataclasses
import os
import signal

from ..checkpoint import save_checkpoint
from ..gan.finite_state import check_checkpoint
from .resume import resume_command
from .stop_signals import Stopped


class TrainingInterrupted(Stopped):
    """A signal stopped a run after its checkpoint was saved: ``path`` (also ``args[0]``)
    is the checkpoint, ``signum`` the signal (exit status 128 + signum)."""

    def __init__(self, path, signum=signal.SIGINT):
        KeyboardInterrupt.__init__(self, path, signum)
        self.path, self.signum, self.second = path, signum, False


def checkpoint_content(trainer, batches, config):
    """(arrays, meta) of a checkpoint of the run as it stands."""
    arrays = {"trainer." + k: v for k, v in trainer.state_dict().items()}
    check_checkpoint(arrays, trainer.step_count)  # never a checkpoint a resume would refuse
    meta = {"config": dataclasses.asdict(config), "batches": batches.state_dict(),
            "step": trainer.step_count, "epoch": batches.epoch}
    return arrays, meta


def save_checkpoints(trainer, batches, config, epoch=None):
    """checkpoints/last.npz, and a numbered copy every ``checkpoint_every`` epochs when
    ``epoch`` (0-based) has just ended. Returns last.npz's path."""
    run_dir = config.out
    arrays, meta = checkpoint_content(trainer, batches, config)
    epoch_done = epoch is not None and batches.state_dict()["position"] == 0
    if epoch_done and config.checkpoint_every and (epoch + 1) % config.checkpoint_every == 0:
        # the numbered copy first: a kill before last.npz is replaced resumes from the
        # previous one and writes this copy again, so no copy is ever skipped
        save_checkpoint(os.path.join(run_dir, "checkpoints", f"epoch_{epoch + 1:03d}.npz"),
                        arrays, meta)
    last = os.path.join(run_dir, "checkpoints", "last.npz")
    save_checkpoint(last, arrays, meta)
    return last


def stop_with_checkpoint(trainer, batches, config, signum, log, epoch=None):
    """A stop signal came between two steps, where the state is consistent: save the
    checkpoint(s) (``save_checkpoints``; the numbered copy only within an epoch,
    ``epoch``), say where the run stopped and how to continue it, and raise
    TrainingInterrupted."""
    path = save_checkpoints(trainer, batches, config, epoch)
    log(f"interrupted at step {trainer.step_count} ({signal.Signals(signum).name}): saved "
        f"{path}; continue with: {resume_command(path, config.out)}")
    raise TrainingInterrupted(path, signum)
