"""Resuming a run with its own settings, or with changes made on purpose and recorded.

A checkpoint stores the settings its run was trained with. A resume whose settings
differ in anything that changes the training -- every ``RunConfig`` field except
``validate_config.FREE_KEYS``, so a field added later is compared too -- is refused with
each difference named, unless that change is allowed explicitly (``--allow-change KEY``,
``train(..., allow_changes=[...])``). Every resume, with what it changed, is appended to
``<run>/resumes.jsonl``, so the run directory says how its run came about.
"""

import dataclasses
import json
import os
import shlex
import time

from ..errors import InputError
from .validate_config import FREE_KEYS

RESUMES_NAME = "resumes.jsonl"


class ResumeError(InputError, ValueError):
    """A resume would change the training without saying so."""


def flag(key):
    """The command-line flag of a RunConfig field: ``lr_d`` -> ``--lr-d``."""
    return "--" + key.replace("_", "-")


def setting_key(name):
    """A setting named as a flag or a field (``--lr-d``, ``lr-d``, ``lr_d``) -> ``lr_d``."""
    return name.lstrip("-").replace("-", "_")


def resume_command(checkpoint, out):
    """The command that continues a run, ready to paste (the checkpoint supplies the
    settings; ``--out`` is spelled out so the run continues where it was)."""
    return f"minigan train --resume {shlex.quote(str(checkpoint))} --out {shlex.quote(str(out))}"


def differences(stored, config):
    """{field: (stored value, new value)} for every field that differs."""
    old, new = dataclasses.asdict(stored), dataclasses.asdict(config)
    return {key: (old.get(key), new[key]) for key in new if old.get(key) != new[key]}


def check_changes(changes, allowed, checkpoint, name=flag):
    """Refuse (``ResumeError``) the changes of training settings not in ``allowed``."""
    refused = {key: values for key, values in changes.items()
               if key not in FREE_KEYS and key not in allowed}
    if not refused:
        return
    listed = "; ".join(f"{name(key)} was {old!r}, now {new!r}"
                       for key, (old, new) in refused.items())
    keys = " ".join(f"--allow-change {name(key).lstrip('-')}" for key in refused)
    raise ResumeError(
        f"--resume {checkpoint}: the run was trained with other settings, and these change "
        f"the training: {listed}. Leave them out to continue the run as it was trained, or "
        f"allow the change with {keys} (recorded in the run's {RESUMES_NAME})")


def apply_changes(trainer, config, changes):
    """Settings the checkpoint's state restored over the new config's: the learning rates
    (stored in the optimizer states) and the noise seed, where a change was allowed."""
    if "lr_d" in changes:
        trainer.opt_d.lr = config.lr_d
    if "lr_g" in changes:
        trainer.opt_g.lr = config.lr_g
    if "seed" in changes:
        trainer.seed = config.seed  # the noise from now on; the data order goes on as it was


def record_resume(run_dir, checkpoint, step, changes):
    """Append one line to ``<run_dir>/resumes.jsonl``: when, from what, at which step, and
    every setting that changed (free or allowed)."""
    line = {"resumed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "checkpoint": str(checkpoint),
            "step": step, "changed": {key: {"from": old, "to": new}
                                      for key, (old, new) in changes.items()}}
    with open(os.path.join(run_dir, RESUMES_NAME), "a") as file:
        file.write(json.dumps(line) + "\n")
