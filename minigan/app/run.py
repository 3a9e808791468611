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
not fit) and ``validate_config`` (settings out of range); ``stop_signals`` makes SIGINT,
SIGTERM and SIGHUP save a checkpoint before the run ends.

The settings are ``run_config``'s (``RunConfig``, ``LOSS_DEFAULTS``), the trainer, data
and directory are set up by ``run_setup``, and ``run_checkpoints`` writes the checkpoints
and ends a stopped run; this module is the loop that ties them together.
"""

import contextlib
import json
import os
import time

from ..atomic import atomic_write
from ..data.embedded import notice_once
from ..engine.blas_kernel import forced_kernel_note
from ..gan.progressive_trainer import as_seen_by_d
from . import health
from .heldout_scores import format_heldout_lines
from .progress import epoch_bar, run_bar, run_total, step_numbers, where_things_are
from .restore import RunCheckpoint
from .resume import apply_changes, check_changes, differences, setting_key
from .run_checkpoints import TrainingInterrupted, save_checkpoints, stop_with_checkpoint
from .run_config import ADAM_BETAS, LOSS_DEFAULTS, RunConfig
from .run_dir import check_out_dir, checkpoint_run_dir, claim, same_dir
from .run_pictures import save_epoch_pictures
from .run_setup import (
    FIXED_NOISE_SEED,
    build_checked,
    build_trainer,
    fixed_noise,
    load_batches,
    prepare_run_dir,
)
from .scoring import evaluate_trainer, sample_labels
from .session_report import finished_note, is_finished, session_line
from .stop_signals import StopSignals
from .validate_config import check_config, use_backend

# the names a run's callers import from here (defined in run_config, run_setup,
# run_checkpoints)
__all__ = ["ADAM_BETAS", "FIXED_NOISE_SEED", "LOSS_DEFAULTS", "RunConfig", "TrainingInterrupted",
           "build_trainer", "fixed_noise", "load_trainer", "train"]


@notice_once()   # the training and the test split: one notice about the embedded sample
def train(config, resume=None, log=print, *, overwrite=False, allow_changes=(), stop=None):
    """Run (or resume) training as ``config`` says; returns the run directory.

    Everything is checked before anything is written (each failure an ``InputError``
    naming what was wrong): the settings (``validate_config``), the run directory
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
        trainer = build_checked(config)
        batches, data = load_batches(config, trainer)
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
        records = prepare_run_dir(trainer, batches, config, resume, own, overwrite, changes,
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
                whole.close()
                stop_with_checkpoint(trainer, batches, config, stop.received, log, epoch)
            _end_of_epoch(trainer, batches, config, epoch, z_fixed, y_fixed, records, run_dir)
            findings = health.run_findings(records, len(batches),
                                           trainer.objective.sigmoid_outputs, epoch + 1)
            if findings:
                log(health.describe(findings))
        whole.close()
        if stop.received is not None:  # it came at an epoch's end, or before the first step
            stop_with_checkpoint(trainer, batches, config, stop.received, log)
    return time.time() - started


def _step(trainer, x, y, config, run_dir):
    """trainer.step(x, y); every ``inspect_every``-th step runs under minigan.inspect's
    recorder (same result) and writes its figures and numbers to <run_dir>/inspect/."""
    if not config.inspect_every or (trainer.step_count + 1) % config.inspect_every:
        return trainer.step(x, y)
    from ..inspect import inspect_step
    from ..inspect.plots import write_step_report

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


def _done(trainer, config):
    return config.max_steps is not None and trainer.step_count >= config.max_steps


def _end_of_epoch(trainer, batches, config, epoch, z_fixed, y_fixed, records, run_dir):
    """Samples from the fixed noise, curves, and the checkpoint(s) for this epoch."""
    save_epoch_pictures(trainer, epoch, z_fixed, y_fixed, records, run_dir)
    save_checkpoints(trainer, batches, config, epoch)


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
        trainer = build_checked(config)
        saved.restore(trainer, sampling=True)  # G's state: D's and the optimizers' unused
    return trainer, config
