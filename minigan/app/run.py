"""A training run on disk: what ``minigan train`` does, usable from Python too.

A run directory holds:

    config.json            the run's settings
    metrics.jsonl          one JSON line per generator step (Trainer.step's numbers, the
                           step's epoch and the seconds trained so far, "elapsed_s")
    samples/epoch_NNN.png  a grid from the same fixed noise batch after every epoch
    curves.png             losses and mean D outputs over the run
    checkpoints/last.npz   the latest checkpoint (every epoch, atomically replaced)
    checkpoints/epoch_NNN.npz  periodic copies (--checkpoint-every)
    summary.json           the quality numbers of ``minigan evaluate`` at the end
    resumes.jsonl          one line per resume: from which checkpoint, at which step, and
                           every setting the resume changed
    train.lock             while a train process writes here: its process id
    inspect/step_NNNNNN_*  with --inspect-every N: every N steps, that step recorded layer
                           by layer (minigan.inspect): gradient norms, gradient images,
                           saliency (PNG) and the per-layer numbers (JSON)

``--resume CHECKPOINT`` restores the networks, optimizers, data order and step
count, drops metrics lines logged after that checkpoint, and continues: the
parameters then match an uninterrupted run with the same seed.

A run directory belongs to one run. What is refused, and why, is in ``run_dir``
(a new run into a non-empty directory, a second writer, a rewind), ``resume`` (a
resume that changes the training), ``restore`` (a checkpoint that is damaged or does
not fit) and ``config_checks`` (settings out of range); ``stop_signals`` makes SIGINT,
SIGTERM and SIGHUP save a checkpoint before the run ends.
"""

import contextlib
import dataclasses
import json
import os
import signal
import time

from .. import backend
from ..atomic import atomic_write
from ..checkpoint import CheckpointError, CheckpointReader, save_checkpoint
from ..data import Batches, DataNotFoundError
from ..data.datasets import SPLITS, find_split, named_dir
from ..data.embedded import notice_once
from ..engine.blas_kernel import forced_kernel_note
from ..errors import ConfigError
from ..gan import training_defaults as defaults
from ..gan.finite_state import check_checkpoint
from ..gan.model_names import build_models
from ..gan.models import is_conditional
from ..gan.objectives import get_objective
from ..gan.progressive_trainer import STAGE_STEPS, ProgressiveTrainer, as_seen_by_d
from ..gan.trainer import Trainer
from . import health
from .config_checks import RunConfigError, check_config, use_backend
from .heldout_scores import format_heldout_lines, run_split
from .metrics_log import check_metrics_reach, read_metrics, write_metrics
from .progress import epoch_bar, run_bar, run_total, step_numbers, where_things_are
from .restore import RunCheckpoint
from .resume import (
    apply_changes,
    check_changes,
    differences,
    record_resume,
    resume_command,
    setting_key,
)
from .run_dir import (
    check_out_dir,
    check_rewind,
    checkpoint_run_dir,
    claim,
    remove_after,
    remove_run_files,
    remove_unfinished_writes,
    same_dir,
)
from .run_pictures import save_epoch_pictures
from .scoring import evaluate_trainer, sample_labels
from .session_report import finished_note, is_finished, session_line
from .stop_signals import Stopped, StopSignals

FIXED_NOISE_SEED = 20160107  # the samples grid uses this noise in every epoch of every run


@dataclasses.dataclass
class RunConfig:
    dataset: str = "mnist"
    data: str = None
    model: str = "dcgan"
    epochs: int = 20
    batch_size: int = 64
    loss: str = defaults.LOSS
    # None: the loss's default (LOSS_DEFAULTS), filled in when the config is made
    optimizer: str = None
    lr_d: float = None
    lr_g: float = None
    beta1: float = None  # Adam's; none for RMSprop
    beta2: float = None
    real_label: float = None  # the target for real images; none for losses without targets
    d_steps: int = None
    gp_weight: float = None  # WGAN-GP's lambda (wgan-gp only; default 10)
    r1: float = 0.0  # R1's gamma for the BCE losses (0: no penalty)
    latent_dim: int = 100
    seed: int = defaults.SEED
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
    stage_steps: int = None  # progressive: steps per growth phase (None: STAGE_STEPS)
    equalized_lr: bool = False  # progressive: every weight scaled by He's constant at run time
    # the embedded sample: train on all 5,000 digits, the 500 held out for scoring too (how
    # runs trained before the held-out split; heldout_scores)
    train_on_heldout: bool = False

    def __post_init__(self):
        defaults = dict(LOSS_DEFAULTS.get(self.loss, LOSS_DEFAULTS["non-saturating"]))
        if self.optimizer == "adam" and defaults["optimizer"] != "adam":
            defaults.update(beta1=ADAM_BETAS[0], beta2=ADAM_BETAS[1])  # Adam asked for
        if (self.optimizer or defaults["optimizer"]) != "adam":
            defaults.pop("beta1", None)                              # RMSprop has no betas
            defaults.pop("beta2", None)
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.model == "progressive" and self.stage_steps is None:
            self.stage_steps = STAGE_STEPS


ADAM_BETAS = defaults.ADAM_BETAS   # DCGAN's (Radford et al. 2016)
_DCGAN = {"optimizer": defaults.OPTIMIZER, "lr_d": defaults.LR, "lr_g": defaults.LR,
          "beta1": ADAM_BETAS[0], "beta2": ADAM_BETAS[1], "d_steps": defaults.D_STEPS}
LOSS_DEFAULTS = {
    # DCGAN's Adam settings (Radford et al. 2016); one-sided label smoothing 0.9 (Salimans
    # et al. 2016) for the BCE losses
    "non-saturating": {**_DCGAN, "real_label": defaults.REAL_LABEL},
    "minimax": {**_DCGAN, "real_label": defaults.REAL_LABEL},
    # LSGAN's 0-1 coding (Mao et al. 2017): real images are coded 1
    "lsgan": {**_DCGAN, "real_label": 1.0},
    # hinge: the margins are fixed at +-1, no targets
    "hinge": dict(_DCGAN),
    # Arjovsky et al. 2017: RMSprop, lr 5e-5, 5 critic steps per G step, no targets
    "wgan": {"optimizer": "rmsprop", "lr_d": 5e-5, "lr_g": 5e-5, "d_steps": 5},
    # Gulrajani et al. 2017: lambda = 10, 5 critic steps per G step, Adam(1e-4, (0, 0.9))
    "wgan-gp": {"optimizer": "adam", "lr_d": 1e-4, "lr_g": 1e-4, "beta1": 0.0, "beta2": 0.9,
                "d_steps": 5, "gp_weight": 10.0},
}
"""The settings a RunConfig left at None gets, by loss: each loss's paper's."""


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


@notice_once()   # the training and the test split: one notice about the embedded sample
def train(config, resume=None, log=print, *, overwrite=False, allow_changes=(), stop=None):
    """Run (or resume) training as ``config`` says; returns the run directory.

    Everything is checked before anything is written (each failure an ``InputError``
    naming what was wrong): the settings (``config_checks``), the run directory
    (``run_dir``: a new run needs it empty, unless ``overwrite``), the checkpoint
    (``restore``) and the settings it was trained with (``resume``: a change of the
    training needs its key in ``allow_changes``), the data. Then the directory is locked
    for this process, and a signal (SIGINT, SIGTERM, SIGHUP) stops the run at the next
    step boundary with a checkpoint (``stop_signals``; ``stop``: a ``StopSignals`` the
    caller has entered, else one is made here).
    """
    check_config(config)
    use_backend(config.backend)
    run_dir = config.out
    check_out_dir(run_dir, resume, overwrite)
    with (RunCheckpoint(resume, RunConfig) if resume else contextlib.nullcontext()) as saved:
        changes = {}
        if saved is not None:
            changes = differences(saved.config, config)
            check_changes(changes, {setting_key(key) for key in allow_changes}, resume)
        trainer = _build_checked(config)
        batches, data = _load_batches(config, trainer)
        if saved is not None:
            saved.restore(trainer, batches)
            apply_changes(trainer, config, changes)
    if resume and not overwrite and is_finished(trainer.step_count, batches.epoch, config):
        log(finished_note(resume, trainer.step_count, batches.epoch, config, run_dir))
        return run_dir
    own = resume is not None and same_dir(checkpoint_run_dir(resume), run_dir)
    with contextlib.ExitStack() as stack:
        if stop is None:
            stop = stack.enter_context(StopSignals())
        stack.enter_context(claim(run_dir, resume, overwrite, log))
        if config.backend == "numpy" and (note := forced_kernel_note()):  # once, at the start
            log(note)
        records = _prepare_run_dir(trainer, batches, config, resume, own, overwrite, changes,
                                   data)
        first_step = trainer.step_count
        if resume:
            log(f"resumed from {resume} at step {trainer.step_count} "
                f"(epoch {batches.epoch + 1}/{config.epochs})")
        seconds = _training_loop(trainer, batches, config, records, stop, log)
        log(session_line(first_step, trainer.step_count, seconds, run_dir))
        if config.evaluate:
            findings = health.run_findings(records, len(batches),
                                           trainer.objective.sigmoid_outputs)
            _final_report(trainer, config, seconds, run_dir, log, data, findings)
        log("\n".join(["the run's files:", *where_things_are(run_dir, config.evaluate)]))
    return run_dir


def _build_checked(config):
    """build_trainer(config), its argument errors reported as bad settings."""
    try:
        return build_trainer(config)
    except ConfigError as error:
        if isinstance(error, RunConfigError):
            raise
        raise RunConfigError(f"the run's settings do not make a trainer: {error}") from None


def _load_batches(config, trainer):
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
    conditional = is_conditional(trainer.G)
    return Batches(images, labels if conditional else None, config.batch_size,
                   seed=config.seed), data


def _prepare_run_dir(trainer, batches, config, resume, own, overwrite, changes, data=None):
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
        later = _last_step(os.path.join(run_dir, "checkpoints", "last.npz"))
        check_rewind(run_dir, resume, step, later, overwrite)
        rewind = (later or 0) > step
        if rewind:  # last.npz goes back to the resumed state before anything is deleted
            save_checkpoint(os.path.join(run_dir, "checkpoints", "last.npz"),
                            *_checkpoint_content(trainer, batches, config))
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


def _last_step(path):
    """The step of the checkpoint at ``path`` (its metadata only), or None."""
    try:
        with CheckpointReader(path) as reader:
            step = reader.meta.get("step")
    except CheckpointError:
        return None
    return step if isinstance(step, int) else None


def _training_loop(trainer, batches, config, records, stop, log):
    """Train until the epochs or max_steps are done; returns the seconds it took. A first
    stop signal ends it at the next step boundary with a checkpoint (TrainingInterrupted)."""
    run_dir = config.out
    metrics_path = os.path.join(run_dir, "metrics.jsonl")
    z_fixed = fixed_noise(trainer, config.sample_count)
    y_fixed = sample_labels(trainer, config.sample_count)
    started = time.time()
    before = records[-1].get("elapsed_s", 0.0) if records else 0.0  # earlier sessions' time
    whole = run_bar(run_total(len(batches), config.epochs, config.max_steps),
                    trainer.step_count, config.progress)  # the run's steps and time left
    with open(metrics_path, "a") as metrics_file, stop.deferring_stops(), whole:
        while batches.epoch < config.epochs and not _done(trainer, config) \
                and stop.received is None:
            epoch = batches.epoch
            bar = epoch_bar(epoch + 1, config.epochs, len(batches), batches.position,
                            config.progress)
            for x, y in batches:  # the rest of this epoch
                stats = _step(trainer, x, y, config, run_dir)
                stats.update(epoch=epoch + 1, elapsed_s=round(before + time.time() - started, 3))
                records.append(stats)
                metrics_file.write(json.dumps(stats) + "\n")
                bar.set_postfix_str(step_numbers(stats), refresh=False)
                bar.update(1)
                whole.update(1)
                if _done(trainer, config) or stop.received is not None:
                    break
            bar.close()
            metrics_file.flush()
            if stop.received is not None:  # between two steps: the state is consistent
                path = _save_checkpoints(trainer, batches, config, epoch, run_dir)
                whole.close()
                _interrupted(path, trainer, stop.received, run_dir, log)
            _end_of_epoch(trainer, batches, config, epoch, z_fixed, y_fixed, records, run_dir)
            findings = health.run_findings(records, len(batches),
                                           trainer.objective.sigmoid_outputs, epoch + 1)
            if findings:
                log(health.describe(findings))
        whole.close()
        if stop.received is not None:  # it came at an epoch's end, or before the first step
            path = os.path.join(run_dir, "checkpoints", "last.npz")
            save_checkpoint(path, *_checkpoint_content(trainer, batches, config))
            _interrupted(path, trainer, stop.received, run_dir, log)
    return time.time() - started


def _interrupted(path, trainer, signum, run_dir, log):
    """Say where the run stopped and how to continue it; raise TrainingInterrupted."""
    log(f"interrupted at step {trainer.step_count} ({signal.Signals(signum).name}): saved "
        f"{path}; continue with: {resume_command(path, run_dir)}")
    raise TrainingInterrupted(path, signum)


def _step(trainer, x, y, config, run_dir):
    """trainer.step(x, y); every ``inspect_every``-th step runs under minigan.inspect's
    recorder (same result) and writes its figures and numbers to <run_dir>/inspect/."""
    if not config.inspect_every or (trainer.step_count + 1) % config.inspect_every:
        return trainer.step(x, y)
    from ..inspect import inspect_step
    from ..inspect_plots import write_step_report

    record = inspect_step(trainer, x, y)
    write_step_report(record, os.path.join(run_dir, "inspect"),
                      f"step_{trainer.step_count:06d}", real=as_seen_by_d(trainer, x), D=trainer.D,
                      labels=y)
    return record.stats


def _final_report(trainer, config, seconds, run_dir, log, data=None, findings=()):
    """The quality numbers at the end of a run, printed and kept in summary.json (with
    where the training data came from, ``data``, the test data, from the scoring, and the
    health findings)."""
    from ..metrics import format_report

    result = evaluate_trainer(trainer, config, n=config.evaluate)
    result["train_seconds_this_session"] = round(seconds, 1)
    result["train_data"] = data
    result["health"] = list(findings)  # the failure modes the metrics show (app.health)
    with atomic_write(os.path.join(run_dir, "summary.json"), "w") as file:
        json.dump(result, file, indent=2)
    log("\n".join([format_report(result), *format_heldout_lines(result)]))


class TrainingInterrupted(Stopped):
    """A signal stopped a run after its checkpoint was saved: ``path`` (also ``args[0]``)
    is the checkpoint, ``signum`` the signal (exit status 128 + signum)."""

    def __init__(self, path, signum=signal.SIGINT):
        KeyboardInterrupt.__init__(self, path, signum)
        self.path, self.signum, self.second = path, signum, False


def _done(trainer, config):
    return config.max_steps is not None and trainer.step_count >= config.max_steps


def _end_of_epoch(trainer, batches, config, epoch, z_fixed, y_fixed, records, run_dir):
    """Samples from the fixed noise, curves, and the checkpoint(s) for this epoch."""
    save_epoch_pictures(trainer, epoch, z_fixed, y_fixed, records, run_dir)
    _save_checkpoints(trainer, batches, config, epoch, run_dir)


def _save_checkpoints(trainer, batches, config, epoch, run_dir):
    """checkpoints/last.npz, and a numbered copy every ``checkpoint_every`` epochs."""
    arrays, meta = _checkpoint_content(trainer, batches, config)
    epoch_done = batches.state_dict()["position"] == 0
    if epoch_done and config.checkpoint_every and (epoch + 1) % config.checkpoint_every == 0:
        # the numbered copy first: a kill before last.npz is replaced resumes from the
        # previous one and writes this copy again, so no copy is ever skipped
        save_checkpoint(os.path.join(run_dir, "checkpoints", f"epoch_{epoch + 1:03d}.npz"),
                        arrays, meta)
    last = os.path.join(run_dir, "checkpoints", "last.npz")
    save_checkpoint(last, arrays, meta)
    return last


def _checkpoint_content(trainer, batches, config):
    """(arrays, meta) of a checkpoint of the run as it stands."""
    arrays = {"trainer." + k: v for k, v in trainer.state_dict().items()}
    check_checkpoint(arrays, trainer.step_count)  # never a checkpoint a resume would refuse
    meta = {"config": dataclasses.asdict(config), "batches": batches.state_dict(),
            "step": trainer.step_count, "epoch": batches.epoch}
    return arrays, meta


def load_trainer(checkpoint_path, backend_name=None):
    """(trainer, config) restored from a checkpoint written by ``train``, on the backend
    it was trained on or on ``backend_name`` ("numpy" / "cupy"): checkpoints hold
    NumPy arrays, so a run trained on a GPU can be sampled on a laptop. The generator's
    part of the checkpoint is checked completely first (``restore``; a bad one is a
    ``CheckpointError``); D's and the optimizers' states are not loaded: the trainer is for
    sampling and scoring, and ``train --resume`` is what continues a run."""
    with RunCheckpoint(checkpoint_path, RunConfig) as saved:
        config = saved.config
        if backend_name is not None:
            config.backend = backend_name
        use_backend(config.backend)
        trainer = _build_checked(config)
        saved.restore(trainer, sampling=True)  # G's state: D's and the optimizers' unused
    return trainer, config
