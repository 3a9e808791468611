"""The pictures a run draws at the end of each epoch: the fixed-noise sample grid, the
training curves and, for a growing generator, the same z at the end of every stage."""

import os

from ..gan.progressive_trainer import ProgressiveTrainer
from ..plots import bce_equilibrium, plot_training_curves, save_growth_figure, save_image_grid

STAGES_FIGURE = os.path.join("samples", "stages.png")


def save_epoch_pictures(trainer, epoch, z_fixed, y_fixed, records, run_dir):
    """samples/epoch_NNN.png (titled with the epoch and step; for a progressive run also
    the resolution and alpha), curves.png, and for a progressive run samples/stages.png."""
    images = trainer.sample(len(z_fixed), z=z_fixed, labels=y_fixed)
    title = f"epoch {epoch + 1}, step {trainer.step_count}"
    if isinstance(trainer, ProgressiveTrainer):
        title += f", {trainer.describe()}"
        if trainer.G.resolution < images.shape[1]:
            title += f", shown at {images.shape[1]}x{images.shape[2]}"
    save_image_grid(images, os.path.join(run_dir, "samples", f"epoch_{epoch + 1:03d}.png"),
                    title=title)
    if records:
        plot_training_curves(records, os.path.join(run_dir, "curves.png"),
                             equilibrium=_equilibrium(trainer))
    if isinstance(trainer, ProgressiveTrainer):
        save_stages_figure(trainer, os.path.join(run_dir, STAGES_FIGURE))


def _equilibrium(trainer):
    """The BCE equilibrium's reference lines for the curves (None for the other losses)."""
    objective = getattr(trainer, "objective", None)
    if not getattr(objective, "sigmoid_outputs", False):
        return None
    return bce_equilibrium(getattr(trainer, "real_label", 1.0),
                           getattr(trainer, "fake_label", 0.0))


def save_stages_figure(trainer, path):
    """The trainer's fixed z at the end of every stage that has ended, and as G draws it
    now, one row each, upsampled to 28x28 for display."""
    rows = [(f"end of {r}x{r}", images) for r, images in trainer.stage_snapshots()]
    if not trainer.schedule.ended():
        r = trainer.G.resolution
        now = trainer.sample(len(trainer.snapshot_z), z=trainer.snapshot_z, native=True)
        rows.append((f"{r}x{r}, step {trainer.step_count}\nalpha {trainer.schedule.alpha:.2f}",
                     now))
    return save_growth_figure(rows, path, title="the same z at the end of each stage "
                                                "(nearest-upsampled to 28x28)")
