"""A training run on disk: what ``minigan train`` does, usable from Python too.

A run directory holds:

    config.json            the run's settings
    metrics.jsonl          one JSON line per generator step (Trainer.step's numbers)
    samples/epoch_NNN.png  a grid from the same fixed noise batch after every epoch
    curves.png             losses and mean D outputs over the run
    checkpoints/last.npz   the latest checkpoint (every epoch, atomically replaced)
    checkpoints/epoch_NNN.npz  periodic copies (--checkpoint-every)
    summary.json           the quality numbers of ``minigan evaluate`` at the end
    inspect/step_NNNNNN_*  with --inspect-every N: every N steps, that step recorded layer
                           by layer (minigan.inspect): gradient norms, gradient images,
                           saliency (PNG) and the per-layer numbers (JSON)

``--resume CHECKPOINT`` restores the networks, optimizers, data order and step
count, drops metrics lines logged after that checkpoint, and continues: the
parameters then match an uninterrupted run with the same seed.
"""

import dataclasses
import json
import os
import signal
import threading
import time

from tqdm import tqdm

from .. import backend
from ..atomic import atomic_write
from ..checkpoint import load_checkpoint, save_checkpoint
from ..data import Batches, load_dataset
from ..errors import ConfigError
from ..nn.checks import is_int
from ..plots import plot_training_curves, save_image_grid
from .models import build_models
from .trainer import Trainer

FIXED_NOISE_SEED = 20160107  # the samples grid uses this noise in every epoch of every run


@dataclasses.dataclass
class RunConfig:
    dataset: str = "mnist"
    data: str = None
    model: str = "dcgan"
    epochs: int = 20
    batch_size: int = 64
    loss: str = "non-saturating"
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    beta1: float = 0.5
    real_label: float = 0.9
    d_steps: int = 1
    latent_dim: int = 100
    seed: int = 0
    out: str = "runs/mnist-dcgan"
    checkpoint_every: int = 5
    max_steps: int = None
    sample_count: int = 64
    evaluate: int = 2000  # samples scored at the end of the run (0: skip)
    backend: str = "numpy"
    progress: bool = True
    inspect_every: int = 0  # record every N-th step with minigan.inspect (0: never)
    spectral_norm: bool = False  # D's Conv2d/Dense weights spectrally normalised
    minibatch_stddev: bool = False  # D sees the batch's standard deviation as a feature


def build_trainer(config):
    """The models and Trainer a config describes (weights seeded by config.seed)."""
    backend.seed(config.seed)
    G, D = build_models(config.model, config.latent_dim, spectral_norm=config.spectral_norm,
                        minibatch_stddev=config.minibatch_stddev,
                        rng=backend.default_rng(config.seed))
    trainer = Trainer(G, D, loss=config.loss, lr_d=config.lr_d, lr_g=config.lr_g,
                      betas=(config.beta1, 0.999), real_label=config.real_label,
                      d_steps=config.d_steps, seed=config.seed, latent_dim=config.latent_dim)
    return trainer


def fixed_noise(trainer, n):
    """The same z for every epoch's sample grid."""
    dtype = trainer.G.parameters()[0].dtype
    return backend.default_rng(FIXED_NOISE_SEED).standard_normal((n, trainer.latent_dim),
                                                                 dtype=dtype)


def sample_labels(trainer, n):
    """Class labels 0..9 in rows for conditional models, None otherwise."""
    if not hasattr(trainer.G, "num_classes"):
        return None
    return backend.xp.arange(n) % trainer.G.num_classes


def train(config, resume=None, log=print):
    """Run (or resume) training as ``config`` says; returns the run directory."""
    backend.use(config.backend)
    if not is_int(config.inspect_every) or config.inspect_every < 0:
        raise ConfigError(f"RunConfig: inspect_every must be an int >= 0 (0: never), got "
                          f"{config.inspect_every!r}")
    run_dir = config.out
    for sub in ("samples", "checkpoints"):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    _remove_unfinished_writes(os.path.join(run_dir, "checkpoints"))
    images, labels = load_dataset(config.dataset, "train", config.data, embedded_fallback=True)
    trainer = build_trainer(config)
    conditional = hasattr(trainer.G, "num_classes")
    batches = Batches(images, labels if conditional else None, config.batch_size,
                      seed=config.seed)
    metrics_path = os.path.join(run_dir, "metrics.jsonl")
    records = []
    if resume:
        arrays, meta = load_checkpoint(resume)
        trainer.load_state_dict({k[len("trainer."):]: v for k, v in arrays.items()
                                 if k.startswith("trainer.")})
        batches.load_state_dict(meta["batches"])
        records = _read_metrics(metrics_path, up_to_step=trainer.step_count)
        log(f"resumed from {resume} at step {trainer.step_count} "
            f"(epoch {batches.epoch + 1}/{config.epochs})")
    _write_metrics(metrics_path, records)  # rewrites the log without steps after the resume point
    with open(os.path.join(run_dir, "config.json"), "w") as file:
        json.dump(dataclasses.asdict(config), file, indent=2)

    z_fixed = fixed_noise(trainer, config.sample_count)
    y_fixed = sample_labels(trainer, config.sample_count)
    started = time.time()
    with open(metrics_path, "a") as metrics_file, _CtrlC() as ctrl_c:
        while batches.epoch < config.epochs and not _done(trainer, config):
            epoch = batches.epoch
            bar = tqdm(total=len(batches), initial=batches.position,
                       desc=f"epoch {epoch + 1}/{config.epochs}", disable=not config.progress,
                       dynamic_ncols=True)
            for x, y in batches:  # the rest of this epoch
                stats = _step(trainer, x, y, config, run_dir)
                records.append(stats)
                metrics_file.write(json.dumps(stats) + "\n")
                bar.update(1)
                bar.set_postfix(loss_d=f"{stats['loss_d']:.3f}", loss_g=f"{stats['loss_g']:.3f}",
                                d_real=f"{stats['d_real']:.2f}", d_fake=f"{stats['d_fake']:.2f}")
                if _done(trainer, config) or ctrl_c.pressed:
                    break
            bar.close()
            metrics_file.flush()
            if ctrl_c.pressed:  # between two steps: the state is consistent, save it
                path = _save_checkpoints(trainer, batches, config, epoch, run_dir)
                log(f"interrupted at step {trainer.step_count}: saved {path}; continue with: "
                    f"minigan train --resume {path} (and the same flags as this run)")
                raise TrainingInterrupted(path)
            _end_of_epoch(trainer, batches, config, epoch, z_fixed, y_fixed, records, run_dir)
    seconds = time.time() - started
    log(f"trained {trainer.step_count} steps in {seconds:.0f} s; run directory: {run_dir}")
    if config.evaluate:
        _final_report(trainer, config, seconds, run_dir, log)
    return run_dir


def _step(trainer, x, y, config, run_dir):
    """trainer.step(x, y); every ``inspect_every``-th step runs under minigan.inspect's
    recorder (same result) and writes its figures and numbers to <run_dir>/inspect/."""
    if not config.inspect_every or (trainer.step_count + 1) % config.inspect_every:
        return trainer.step(x, y)
    from ..inspect import inspect_step
    from ..inspect_plots import write_step_report

    record = inspect_step(trainer, x, y)
    write_step_report(record, os.path.join(run_dir, "inspect"),
                      f"step_{trainer.step_count:06d}", real=x, D=trainer.D, labels=y)
    return record.stats


def _final_report(trainer, config, seconds, run_dir, log):
    """The quality numbers at the end of a run, printed and kept in summary.json."""
    from .evaluate import evaluate_trainer  # evaluate imports this module
    from ..metrics import format_report

    result = evaluate_trainer(trainer, config, n=config.evaluate)
    result["train_seconds_this_session"] = round(seconds, 1)
    with open(os.path.join(run_dir, "summary.json"), "w") as file:
        json.dump(result, file, indent=2)
    log(format_report(result))


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run after its checkpoint was saved (``args[0]``: its path)."""


class _CtrlC:
    """Turns Ctrl-C (SIGINT) into a flag that the loop checks between two steps, so no
    step is cut in half and the checkpoint saved on the way out is consistent. A second
    Ctrl-C stops at once."""

    def __enter__(self):
        self.pressed = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():  # signals: main thread only
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _done(trainer, config):
    return config.max_steps is not None and trainer.step_count >= config.max_steps


def _end_of_epoch(trainer, batches, config, epoch, z_fixed, y_fixed, records, run_dir):
    """Samples from the fixed noise, curves, and the checkpoint(s) for this epoch."""
    images = trainer.sample(len(z_fixed), z=z_fixed, labels=y_fixed)
    save_image_grid(images, os.path.join(run_dir, "samples", f"epoch_{epoch + 1:03d}.png"),
                    title=f"epoch {epoch + 1}, step {trainer.step_count}")
    if records:
        plot_training_curves(records, os.path.join(run_dir, "curves.png"))
    _save_checkpoints(trainer, batches, config, epoch, run_dir)


def _save_checkpoints(trainer, batches, config, epoch, run_dir):
    """checkpoints/last.npz, and a numbered copy every ``checkpoint_every`` epochs."""
    arrays = {"trainer." + k: v for k, v in trainer.state_dict().items()}
    meta = {"config": dataclasses.asdict(config), "batches": batches.state_dict(),
            "step": trainer.step_count, "epoch": batches.epoch}
    epoch_done = batches.state_dict()["position"] == 0
    if epoch_done and config.checkpoint_every and (epoch + 1) % config.checkpoint_every == 0:
        # the numbered copy first: a kill before last.npz is replaced resumes from the
        # previous one and writes this copy again, so no copy is ever skipped
        save_checkpoint(os.path.join(run_dir, "checkpoints", f"epoch_{epoch + 1:03d}.npz"),
                        arrays, meta)
    last = os.path.join(run_dir, "checkpoints", "last.npz")
    save_checkpoint(last, arrays, meta)
    return last


def _remove_unfinished_writes(directory):
    """Delete temporary files that a killed run left half-written (``.NAME.XXXX.part``
    from ``atomic_write``); finished files are never named like that."""
    for name in os.listdir(directory):
        if name.startswith(".") and name.endswith(".part"):
            os.unlink(os.path.join(directory, name))


def _read_metrics(path, up_to_step):
    if not os.path.exists(path):
        return []
    records = []
    with open(path) as file:
        for line in file:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a crash
                continue
            if record["step"] <= up_to_step:
                records.append(record)
    return records


def _write_metrics(path, records):
    with atomic_write(path, "w") as file:
        for record in records:
            file.write(json.dumps(record) + "\n")


def load_trainer(checkpoint_path, backend_name=None):
    """(trainer, config) restored from a checkpoint written by ``train``, on the backend
    it was trained on or on ``backend_name`` ("numpy" / "cupy"): checkpoints hold
    NumPy arrays, so a run trained on a GPU can be sampled on a laptop."""
    arrays, meta = load_checkpoint(checkpoint_path)
    config = RunConfig(**meta["config"])
    if backend_name is not None:
        config.backend = backend_name
    backend.use(config.backend)
    trainer = build_trainer(config)
    trainer.load_state_dict({k[len("trainer."):]: v for k, v in arrays.items()
                             if k.startswith("trainer.")})
    return trainer, config
