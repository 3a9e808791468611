"""What a training session says about itself: the steps *it* trained (a resumed run's
session trains only the steps after its checkpoint), and, for a resume of a run that is
already finished, that there is nothing to do and how to train it further."""

from .resume import resume_command


def is_finished(step, epochs_done, config):
    """Whether a run at ``step`` with ``epochs_done`` whole epochs has nothing left to
    train under ``config`` (its epochs, or its ``max_steps``)."""
    return epochs_done >= config.epochs or (config.max_steps is not None
                                            and step >= config.max_steps)


def finished_note(checkpoint, step, epochs_done, config, run_dir):
    """The line a resume of a finished run prints instead of training: where the run
    stands, and the command that trains it further (twice the epochs, or twice the steps
    when ``max_steps`` ended it)."""
    command = resume_command(checkpoint, run_dir)
    if config.max_steps is not None and step >= config.max_steps:
        where = f"step {step} of --max-steps {config.max_steps}"
        further = f"{command} --max-steps {2 * config.max_steps}"
    else:
        where = f"step {step}, {epochs_done} of {config.epochs} epochs done"
        further = f"{command} --epochs {max(2 * config.epochs, epochs_done + 1)}"
    return (f"nothing to do: the run in {checkpoint} is finished ({where}); nothing was "
            f"trained, scored or written. To train it further: {further}")


def session_line(first_step, last_step, seconds, run_dir):
    """What this ``train`` command trained, e.g. "trained 78 steps in 11 s (steps 235-312
    of the run, resumed at step 234); run directory: runs/x"; a fresh run's line has no
    parenthesis."""
    steps = last_step - first_step
    done = f"trained {steps} step{'s' if steps != 1 else ''} in {seconds:.0f} s"
    if first_step:
        span = f"steps {first_step + 1}-{last_step}" if steps else "no steps"
        done += f" ({span} of the run, resumed at step {first_step})"
    return f"{done}; run directory: {run_dir}"
