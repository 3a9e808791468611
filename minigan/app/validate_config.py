"""What a run's settings (``RunConfig``) may be, checked before a run starts.

One set of rules serves three callers: the command line (an argument is named as its
flag, ``--seed``), ``train()`` called from Python (``RunConfig.seed``), and the settings
stored in a checkpoint (``config key 'seed'``), so a bad value is refused with the same
words wherever it comes from, before any data is loaded or any file written.

``RULES`` holds the fields whose range matters (a seed must fit the checkpoint's int64,
``--evaluate 1`` cannot give a Fréchet distance, ...). A field without a rule -- one added
later -- is still checked against the type of its default value, and the ``Trainer``
and model builders check their own arguments when the run builds them, which also
happens before the data is loaded.

``FREE_KEYS`` are the settings a resumed run may change without asking; every other
field of ``RunConfig``, including any added later, changes the training itself and is
compared with the checkpoint's (``minigan.app.resume``).
"""

import dataclasses
import math
import numbers

from .. import backend
from ..data.datasets import DATASETS, MAX_IMAGES
from ..errors import BackendError, ConfigError, InputError
from ..gan.model_names import MODELS
from ..gan.objectives import OBJECTIVES
from .bounds import (
    MAX_D_STEPS,
    MAX_EPOCHS,
    MAX_EVALUATE,
    MAX_GRID,
    MAX_LATENT_DIM,
    MAX_STAGE_STEPS,
    MAX_STEPS,
)

MAX_SEED = 2**63 - 1
"""Seeds are stored in checkpoints as int64."""

FREE_KEYS = frozenset({
    "epochs", "max_steps",                    # how long the run goes on
    "out", "progress", "checkpoint_every",    # where and what it writes
    "evaluate", "sample_count", "inspect_every",
    "backend", "data",                        # where it computes and reads its data from
})
"""Settings a resumed run may change freely: how long it runs, what it writes and where,
and where it computes and finds its data (the data's size is still checked against the
checkpoint's). Everything else in RunConfig changes the training and must match."""


class RunConfigError(InputError, ConfigError):
    """A run setting is outside what it may be; the message names it and what it expected."""


def _int_in(low, high=None):
    def check(value):
        return _is_int(value) and value >= low and (high is None or value <= high)
    return check


def _number_in(low, high, high_open=False):
    def check(value):
        return (_is_real(value) and low <= value
                and (value < high if high_open else value <= high))
    return check


def _one_of(options):
    return lambda value: isinstance(value, str) and value in options, \
        "one of " + ", ".join(repr(o) for o in options)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value):
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


# field -> (check, what was expected)
RULES = {
    "dataset": _one_of(sorted(DATASETS)),
    "data": (lambda v: v is None or (isinstance(v, str) and v != ""),
             "a directory (a non-empty string) or none"),
    "model": _one_of(MODELS),
    "epochs": (_int_in(1, MAX_EPOCHS), f"an integer from 1 to {MAX_EPOCHS:,}"),
    "batch_size": (_int_in(1, MAX_IMAGES), f"an integer from 1 to {MAX_IMAGES:,}"),
    "loss": _one_of(list(OBJECTIVES)),
    "lr_d": (_number_in(0, math.inf), "a finite number >= 0"),
    "lr_g": (_number_in(0, math.inf), "a finite number >= 0"),
    "optimizer": _one_of(["adam", "rmsprop"]),
    # None where they do not apply (RMSprop has no betas; hinge and WGAN have no targets)
    "beta1": (lambda v: v is None or _number_in(0, 1, high_open=True)(v), "a number in [0, 1)"),
    "beta2": (lambda v: v is None or _number_in(0, 1, high_open=True)(v), "a number in [0, 1)"),
    "real_label": (lambda v: v is None or _number_in(0, 1)(v), "a number in [0, 1]"),
    "d_steps": (_int_in(1, MAX_D_STEPS), f"an integer from 1 to {MAX_D_STEPS}"),
    "gp_weight": (lambda v: v is None or _number_in(0, math.inf)(v),
                  "a finite number >= 0 (WGAN-GP's lambda) or none"),
    "r1": (_number_in(0, math.inf), "a finite number >= 0 (R1's gamma; 0: no penalty)"),
    "latent_dim": (_int_in(1, MAX_LATENT_DIM), f"an integer from 1 to {MAX_LATENT_DIM:,}"),
    "seed": (_int_in(0, MAX_SEED), "an integer from 0 to 2**63 - 1 (stored as int64)"),
    "out": (lambda v: isinstance(v, str) and v != "", "a directory (a non-empty string)"),
    "checkpoint_every": (_int_in(0), "an integer >= 0 (0: no numbered copies)"),
    "max_steps": (lambda v: v is None or _int_in(1, MAX_STEPS)(v),
                  f"an integer from 1 to {MAX_STEPS:,} or none"),
    "sample_count": (_int_in(1, MAX_GRID), f"an integer from 1 to {MAX_GRID:,} (one grid)"),
    "evaluate": (lambda v: _is_int(v) and (v == 0 or 2 <= v <= MAX_EVALUATE),
                 f"0 (no final scoring) or at least 2 samples (the Fréchet distance needs "
                 f"a covariance) and at most {MAX_EVALUATE:,}"),
    "backend": _one_of(["numpy", "cupy"]),
    "progress": (lambda v: isinstance(v, bool), "true or false"),
    "inspect_every": (_int_in(0), "an integer >= 0 (0: never)"),
    "spectral_norm": (lambda v: isinstance(v, bool), "true or false"),
    "minibatch_stddev": (lambda v: isinstance(v, bool), "true or false"),
    "stage_steps": (lambda v: v is None or _int_in(1, MAX_STAGE_STEPS)(v),
                    f"an integer from 1 to {MAX_STAGE_STEPS:,} (generator steps per growth "
                    "phase) or none"),
    "equalized_lr": (lambda v: isinstance(v, bool), "true or false"),
}


def _rule_from_default(default):
    """The type check for a field without a rule: the type of its default value."""
    if isinstance(default, bool):
        return lambda v: isinstance(v, bool), "true or false"
    if isinstance(default, numbers.Integral):
        return _is_int, "an integer"
    if isinstance(default, numbers.Real):
        return _is_real, "a finite number"
    if isinstance(default, str):
        return (lambda v: isinstance(v, str)), "a string"
    return (lambda v: v is None or isinstance(v, (bool, numbers.Real, str))), \
        "a number, a string or none"


def check_config(config, name=lambda key: f"RunConfig.{key}"):
    """Raise ``RunConfigError`` for the first field of ``config`` outside its rule;
    ``name(key)`` is how the field is called in the message."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        check, expected = RULES.get(field.name) or _rule_from_default(field.default)
        if not check(value):
            raise RunConfigError(f"{name(field.name)}: expected {expected}, got {value!r}")
    progressive = config.model == "progressive"
    for key, offered in (("stage_steps", config.stage_steps is not None),
                         ("equalized_lr", config.equalized_lr)):
        if offered and not progressive:
            raise RunConfigError(f"{name(key)} is a setting of the 'progressive' model, got "
                                 f"model {config.model!r}")
    if progressive and config.spectral_norm:
        raise RunConfigError(f"{name('spectral_norm')} is offered for every model but "
                             f"'progressive' (which offers {name('equalized_lr')})")
    return config


STORED_BEFORE_OPTIMIZERS = {"optimizer": "adam"}
"""What settings stored before the optimizer could be chosen mean: every run used Adam."""

STORED_BEFORE_HELDOUT = {"train_on_heldout": True}
"""What settings stored before the embedded sample's held-out split mean: a run on the
embedded sample trained on all 5,000 digits (it resumes so; its scores say so)."""


def config_from_dict(config_type, values, name=lambda key: f"config key '{key}'"):
    """A ``config_type`` (RunConfig) from a dict such as a checkpoint's stored settings:
    an unknown key is refused, a missing one takes its default (settings added after
    the checkpoint was written did not exist for its run), every value is checked."""
    if not isinstance(values, dict):
        raise RunConfigError(f"the settings must be a JSON object, got "
                             f"{type(values).__name__}")
    known = {field.name for field in dataclasses.fields(config_type)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise RunConfigError(f"unknown {name(unknown[0])} (known: {', '.join(sorted(known))})")
    if "optimizer" not in values:   # stored before the optimizer was a setting
        values = {**STORED_BEFORE_OPTIMIZERS, **values}
    if "train_on_heldout" not in values:   # stored before the held-out split
        values = {**STORED_BEFORE_HELDOUT, **values}
    return check_config(config_type(**values), name)


def training_keys(config_type):
    """The fields of ``config_type`` that change the training: all but ``FREE_KEYS``."""
    return [f.name for f in dataclasses.fields(config_type) if f.name not in FREE_KEYS]


def use_backend(name):
    """``backend.use(name)``; a backend this machine lacks is a bad setting (``--backend``)."""
    try:
        backend.use(name)
    except BackendError as error:
        raise RunConfigError(f"--backend {name}: {error}") from None
