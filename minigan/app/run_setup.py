"""Setting a training run up: its trainer, its data, and its directory."""

import dataclasses
import json
import os

import numpy

from .. import backend
from ..atomic import atomic_write
from ..checkpoint import CheckpointError, CheckpointReader, save_checkpoint
from ..data import Batches, DataNotFoundError
from ..data.datasets import SPLITS, find_split, named_dir
from ..errors import ConfigError, InputError
from ..gan.model_names import build_models
from ..gan.models import is_conditional
from ..gan.objectives import get_objective
from ..gan.progressive_trainer import ProgressiveTrainer
from ..gan.trainer import Trainer
from .heldout_scores import load_heldout, run_split
from .metrics_log import check_metrics_reach, read_metrics, write_metrics
from .resume import record_resume
from .run_checkpoints import checkpoint_content
from .run_config import ADAM_BETAS
from .run_dir import check_rewind, remove_after, remove_run_files, remove_unfinished_writes
from .validate_config import RunConfigError

FIXED_NOISE_SEED = 20160107  # the samples grid uses this noise in every epoch of every run


def build_trainer(config):
    """The models and Trainer a config describes (weights seeded by config.seed). With
    "wgan-gp" or an R1 penalty, D is the critic a penalty can differentiate
    (``build_models(critic=True)``: dcgan_critic for the DCGAN)."""
    if config.gp_weight is not None and config.loss != "wgan-gp":
        raise ConfigError(f"RunConfig: gp_weight is WGAN-GP's lambda and needs loss "
                          f"'wgan-gp', got loss {config.loss!r}")
    backend.seed(config.seed)
    G, D = build_models(config.model, config.latent_dim, spectral_norm=config.spectral_norm,
                        minibatch_stddev=config.minibatch_stddev,
                        equalized_lr=config.equalized_lr,
                        critic=config.loss == "wgan-gp" or bool(config.r1),
                        rng=backend.default_rng(config.seed))
    loss = (get_objective("wgan-gp", weight=config.gp_weight) if config.loss == "wgan-gp"
            else config.loss)
    adam = config.optimizer == "adam"
    growth = {"stage_steps": config.stage_steps} if config.model == "progressive" else {}
    trainer = (ProgressiveTrainer if growth else Trainer)(
        G, D, loss=loss, lr_d=config.lr_d, lr_g=config.lr_g,
        betas=(config.beta1, config.beta2) if adam else ADAM_BETAS,
        real_label=1.0 if config.real_label is None else config.real_label,
        d_steps=config.d_steps, seed=config.seed, latent_dim=config.latent_dim,
        r1=config.r1, optimizer=config.optimizer, **growth)
    return trainer


def fixed_noise(trainer, n):
    """The same z for every epoch's sample grid."""
    dtype = trainer.G.parameters()[0].dtype
    return backend.default_rng(FIXED_NOISE_SEED).standard_normal((n, trainer.latent_dim),
                                                                 dtype=dtype)


def build_checked(config):
    """build_trainer(config), its argument errors reported as bad settings."""
    try:
        return build_trainer(config)
    except ConfigError as error:
        if isinstance(error, RunConfigError):
            raise
        raise RunConfigError(f"the run's settings do not make a trainer: {error}") from None


def load_batches(config, trainer):
    """The training data as Batches, checked against the settings; and, when the run
    ends with a score, that the test split is where the data is named to be."""
    # the embedded sample: its 4,500 training digits; data: where they came from
    images, labels, data = run_split(config, "train")
    if config.batch_size > len(images):
        raise RunConfigError(f"--batch-size {config.batch_size}: more than the "
                             f"{len(images):,} training images (an epoch needs a full batch)")
    named, _ = named_dir(config.data)
    if config.evaluate and named is not None and \
            find_split(config.dataset, "test", named)[0] is None:
        raise DataNotFoundError(f"--evaluate {config.evaluate} scores against the test split, "
                                f"which the data directory {named} does not hold (expected "
                                f"{' and '.join(s + '.gz' for s in SPLITS['test'])}): add "
                                "them, or pass --evaluate 0", searched=[named],
                                reason="no test split")
    if config.evaluate:   # the score at the end needs held-out images: look now, not then
        load_heldout(config, f"--evaluate {config.evaluate}", "add images, or pass --evaluate 0")
    conditional = is_conditional(trainer.G)
    if conditional:
        check_labels(labels, trainer.G.num_classes, config, data)
    return Batches(images, labels if conditional else None, config.batch_size,
                   seed=config.seed), data


def check_labels(labels, num_classes, config, data):
    """A conditional model's training labels are classes 0 .. num_classes - 1: an input
    error (exit status 2, before any directory is made) names the first that is not."""
    outside = numpy.flatnonzero(numpy.asarray(labels) >= num_classes)
    if len(outside):
        where = data["path"] or data["source"]
        raise InputError(f"--model {config.model} needs training labels 0 to "
                         f"{num_classes - 1}, but {len(outside):,} of the {len(labels):,} "
                         f"labels in {where} are not (label {int(labels[outside[0]])} at "
                         f"index {int(outside[0])})")


def prepare_run_dir(trainer, batches, config, resume, own, overwrite, changes, data=None):
    """With the directory locked: check the run's metrics and a rewind, remove what
    --overwrite replaces, write config.json (the settings, and under "train_data" where the
    training data came from: ``load_with_source``'s ``data``), the metrics kept and the
    resume's record. Returns the metrics records kept. A rewind's last.npz goes back first:
    a kill at any later point leaves a run that a plain resume continues (the files of
    later epochs are rewritten as it goes), never a last.npz ahead of the metrics."""
    run_dir, step = config.out, trainer.step_count
    records, later = [], None
    rewind = False
    if own:
        records = read_metrics(os.path.join(run_dir, "metrics.jsonl"), up_to_step=step)
        check_metrics_reach(os.path.join(run_dir, "metrics.jsonl"), records, step, resume)
        later = last_step(os.path.join(run_dir, "checkpoints", "last.npz"))
        check_rewind(run_dir, resume, step, later, overwrite)
        rewind = (later or 0) > step
        if rewind:  # last.npz goes back to the resumed state before anything is deleted
            save_checkpoint(os.path.join(run_dir, "checkpoints", "last.npz"),
                            *checkpoint_content(trainer, batches, config))
            record_resume(run_dir, resume, step, changes)
    if overwrite:
        if own:
            remove_after(run_dir, batches.epoch, step)
        else:
            remove_run_files(run_dir)
    for sub in ("samples", "checkpoints"):
        os.makedirs(os.path.join(run_dir, sub), exist_ok=True)
    remove_unfinished_writes(run_dir)
    # config.json first: it is what proves a directory to be a minigan run
    with atomic_write(os.path.join(run_dir, "config.json"), "w") as file:
        json.dump({**dataclasses.asdict(config), "train_data": data}, file, indent=2)
    write_metrics(os.path.join(run_dir, "metrics.jsonl"), records)  # no steps after the resume
    if resume and not rewind:
        record_resume(run_dir, resume, step, changes)
    return records


def last_step(path):
    """The step of the checkpoint at ``path`` (its metadata only), or None."""
    try:
        with CheckpointReader(path) as reader:
            step = reader.meta.get("step")
    except CheckpointError:
        return None
    return step if isinstance(step, int) else None
