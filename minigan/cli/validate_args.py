"""The command line's arguments, checked before any data is loaded or directory created.

The parser (``cli.parser.build_parser``) only reads the arguments; what they must be is
decided here, and every refusal is an ``InputError`` whose one-line message names the
flag, what it expected and what it got (exit status 2):

* ``train``: the settings as a ``RunConfig``, checked by the rules every run's settings
  follow (``app.validate_config``), named as flags. With ``--resume``, the settings the
  checkpoint was trained with are the starting point and only the flags given on the
  command line override them (``explicit_options``), so ``minigan train --resume
  RUN/checkpoints/last.npz`` continues the run as it was; ``--out`` defaults to the
  checkpoint's own run directory. Whether the overrides may change the training is
  decided by ``app.resume``;
* ``sample``: the image file to write (its folder exists, a format that can be written;
  a name without extension gets ``.png``, and that is the name reported);
* ``evaluate``: at least two samples (the Fréchet distance needs a covariance);
* every command: a ``--seed`` that fits int64 and is not negative, a ``--backend`` this
  machine has.
"""

import argparse
import dataclasses
import os

from ..app.bounds import MAX_EVALUATE, MAX_GRID, MAX_THREADS, check_count, check_threads_env
from ..app.resume import flag, setting_key
from ..app.run_dir import checkpoint_run_dir
from ..app.validate_config import MAX_SEED, RunConfigError, check_config, training_keys
from ..data.datasets import named_dir
from ..errors import InputError
from ..file_kind import describe_path
from ..gan.objectives import OBJECTIVES

IMAGE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg")
"""The extensions ``sample --out`` may have (what the plots can write)."""


def explicit_options(parser, argv):
    """The destinations of the options given on the command line ``argv`` (not those
    that took their default): the same parser, with every default suppressed."""
    for action in parser.all_actions():
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def train_settings(args, explicit):
    """(RunConfig, resume path) for ``minigan train`` from its arguments."""
    from ..app.restore import RunCheckpoint
    from ..app.run import RunConfig

    fields = {f.name for f in dataclasses.fields(RunConfig)}
    given = {key: value for key, value in vars(args).items() if key in fields}
    given["progress"] = not args.no_progress
    _check_allowed(allowed_changes(args.allow_change), RunConfig)  # "lr-d,lr-g" is two
    if not args.resume:
        return _check_flags_apply(_checked(RunConfig(**given)), explicit), None
    with RunCheckpoint(args.resume, RunConfig) as saved:
        values = dataclasses.asdict(saved.config)
    values.update({key: value for key, value in given.items()
                   if key in explicit or (key == "progress" and "no_progress" in explicit)})
    if "out" not in explicit:
        values["out"] = checkpoint_run_dir(args.resume)
        if values["out"] is None:
            raise InputError(f"--resume {args.resume}: the checkpoint is not in a run "
                             "directory's checkpoints/ folder; say where the run goes on "
                             "with --out DIR")
    return _check_flags_apply(_checked(RunConfig(**values)), explicit), args.resume


def _check_flags_apply(config, explicit):
    """A flag that would change nothing is refused, not silently ignored: --real-label (and
    --fake-label) with a loss that has no targets, Adam's --beta1/--beta2 with RMSprop."""
    if "real_label" in explicit and not OBJECTIVES[config.loss].uses_labels:
        raise InputError(f"--real-label does not apply to --loss {config.loss}, which has no "
                         "targets (its margins or critic values are fixed): leave it out")
    if "train_on_heldout" in explicit and (config.dataset != "mnist"
                                           or named_dir(config.data)[0] is not None):
        raise InputError("--train-on-heldout applies to the embedded sample of MNIST only "
                         "(MNIST and Fashion-MNIST files hold a test split apart already): "
                         "leave it out")
    for key in ("beta1", "beta2"):
        if key in explicit and config.optimizer != "adam":
            raise InputError(f"--{key} is Adam's and does not apply to --optimizer "
                             f"{config.optimizer} (the default of --loss {config.loss}): leave "
                             "it out, or pass --optimizer adam")
    return config


def _checked(config):
    try:
        return check_config(config, name=flag)
    except RunConfigError as error:  # the message already names the flag
        raise InputError(str(error)) from None


def _check_allowed(names, config_type):
    keys = training_keys(config_type)
    for name in names:
        if setting_key(name) not in keys:
            raise InputError(f"--allow-change {name}: expected a setting that changes the "
                             f"training, one of {', '.join(k.replace('_', '-') for k in keys)}")


def allowed_changes(values):
    """``--allow-change`` values (repeated, or comma-separated) as setting names."""
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def check_seed(seed):
    if not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed: expected an integer from 0 to 2**63 - 1, got {seed}")


def sample_path(out, flag="--out"):
    """The image file ``sample --out`` (or ``evaluate --nearest``: ``flag``) writes:
    ``out``, or ``out + ".png"`` without an extension; refused if its folder is missing or
    its format cannot be written."""
    if os.path.exists(out) and not os.path.isfile(out) and not os.path.isdir(out):
        raise InputError(f"{flag} {out}: is {describe_path(out)}, expected an image file name "
                         "(such as grid.png)")
    extension = os.path.splitext(out)[1].lower().lstrip(".")
    if not extension:
        out += ".png"
    elif extension not in IMAGE_FORMATS:
        raise InputError(f"{flag} {out}: expected an image file name ending in "
                         f"{', '.join('.' + f for f in IMAGE_FORMATS)}, got .{extension}")
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise InputError(f"{flag} {out}: the folder {folder} does not exist (or is not a "
                         "folder)")
    if os.path.isdir(out):
        raise InputError(f"{flag} {out}: is a directory, expected an image file name")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {out}: the folder {folder} is not writable")
    return out


def check_sample_count(n):
    if n < 2:
        raise InputError(f"--n: expected at least 2 samples (the Fréchet distance needs a "
                         f"covariance), got {n}")
    check_count("--n", n, 2, MAX_EVALUATE, " samples scored at once")


def check_grid_count(n):
    """``sample --n``: one grid of at most ``MAX_GRID`` images."""
    check_count("--n", n, 1, MAX_GRID, " images in one grid")


def check_threads(n):
    """``--threads`` (if given) and ``$MINIGAN_NUM_THREADS``: 1 to ``MAX_THREADS``."""
    if n is not None:
        check_count("--threads", n, 1, MAX_THREADS)
    check_threads_env()
