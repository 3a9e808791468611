"""Restoring a run from a checkpoint: every part checked before anything is used.

``RunCheckpoint(path)`` opens the file (``minigan.checkpoint.CheckpointReader``: a
hostile file costs nothing) and checks its metadata: the stored settings are a valid
``RunConfig`` (an unknown key, a seed of -1 or a string where a number belongs are
refused), the step and the data-order state have the right types and ranges.
``restore(trainer, batches)`` then reads exactly the arrays the trainer has, each
checked before it is read (present, the trainer's shape) and after (a real floating
type for weights and optimizer moments, finite; integer counters >= 0; learning rates
finite >= 0; the step the metadata says), and only then loads them into the trainer
(all or nothing) and the data order into ``batches``. Any problem is a
``CheckpointError`` naming the file, the entry, what was expected and what was found.
"""

import numbers

import numpy

from .. import backend
from ..checkpoint import CheckpointError, CheckpointReader
from ..data.batches import generator_state_from_json
from ..errors import MiniganError
from .bounds import MAX_STEPS
from .validate_config import MAX_SEED, config_from_dict

PREFIX = "trainer."
NOT_FOR_SAMPLING = ("D.", "opt_g.", "opt_d.", "avg_d.", "avg_g.", "replay.")
"""The parts of a trainer's state that drawing samples never uses: ``restore(...,
sampling=True)`` neither reads nor checks them (a checkpoint whose D or optimizer state
diverged still gives its generator)."""


class RunCheckpoint:
    """An open, checked run checkpoint: ``path``, ``meta``, ``config`` (the stored
    settings as the given config type), ``step``. Use as a context manager."""

    def __init__(self, path, config_type):
        self.path = str(path)
        self._reader = CheckpointReader(self.path)
        try:
            self.meta = self._reader.meta
            self.config = self._check_meta(config_type)
            self.step = self.meta["step"]
        except BaseException:
            self._reader.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._reader.close()
        return False

    def _fail(self, what):
        raise CheckpointError(f"{self.path}: {what}")

    def _check_meta(self, config_type):
        meta = self.meta
        for key, kind in (("config", dict), ("batches", dict), ("step", int)):
            if key not in meta:
                self._fail(f"the metadata has no '{key}' (not written by minigan train)")
            if not isinstance(meta[key], kind) or isinstance(meta[key], bool):
                self._fail(f"the metadata's '{key}' must be a JSON "
                           f"{'object' if kind is dict else 'integer'}, got {meta[key]!r:.60}")
        if not 0 <= meta["step"] <= MAX_STEPS:
            self._fail(f"the metadata's step must be from 0 to {MAX_STEPS:,}, got "
                       f"{meta['step']:.3g}")
        try:
            config = config_from_dict(config_type, meta["config"])
        except MiniganError as error:
            self._fail(f"its stored settings are not valid: {error}")
        batches = meta["batches"]
        for key, check, expected in (
                ("epoch", _count, "an integer >= 0"), ("position", _count, "an integer >= 0"),
                ("batch_size", lambda v: _count(v) and v >= 1, "an integer >= 1"),
                ("num_samples", _count, "an integer >= 0"),
                ("drop_last", lambda v: isinstance(v, bool), "true or false"),
                ("rng", lambda v: isinstance(v, dict), "a generator state (a JSON object)")):
            if key not in batches or not check(batches[key]):
                self._fail(f"data-order state '{key}': expected {expected}, got "
                           f"{batches.get(key, 'nothing')!r:.60}")
        try:  # the generator state must be one numpy can take
            numpy.random.PCG64().state = generator_state_from_json(batches["rng"])
        except (ValueError, TypeError, KeyError, OverflowError) as error:
            why = f"no {error}" if isinstance(error, KeyError) else error
            self._fail(f"data-order state 'rng' is not a PCG64 generator state: {why}")
        return config

    def restore(self, trainer, batches=None, sampling=False):
        """Load the checked arrays into ``trainer`` and the data order into ``batches``
        (if given: sampling and scoring need no data order). With ``sampling``, the parts
        in ``NOT_FOR_SAMPLING`` keep the trainer's own (fresh) values: what G needs is read
        and checked, the rest must only be present."""
        expected = trainer.state_dict()
        found = {name[len(PREFIX):] for name in self._reader.names if name.startswith(PREFIX)}
        missing = [key for key in expected if key not in found]
        unexpected = sorted(found - set(expected))
        if missing or unexpected:
            self._fail(f"does not fit the networks of the run's settings: keys do not match: "
                       f"missing {_few(missing)}, unexpected {_few(unexpected)}")
        state = {key: like if sampling and key.startswith(NOT_FOR_SAMPLING)
                 else self._read_entry(key, like) for key, like in expected.items()}
        if state["step_count"] != self.step:
            self._fail(f"'{PREFIX}step_count' is {state['step_count']} but the metadata says "
                       f"step {self.step}")
        if state["seed"] != self.config.seed:
            self._fail(f"'{PREFIX}seed' is {state['seed']} but the stored settings say seed "
                       f"{self.config.seed}")
        try:
            trainer.load_state_dict(state)
            if batches is not None:
                batches.load_state_dict(self.meta["batches"])
        except (MiniganError, ValueError, TypeError, KeyError, OverflowError) as error:
            self._fail(f"does not fit this run: {error}")

    def _read_entry(self, key, like):
        """Entry ``key`` read and checked against ``like``, the trainer's own value."""
        name = PREFIX + key
        shape, dtype = self._reader.header(name)
        if isinstance(like, numbers.Integral):
            kinds, want_shape = "iu", ()
            what = ("an integer scalar from 0 to 2**63 - 1" if key == "seed"
                    else f"an integer scalar from 0 to {MAX_STEPS:,}")
        elif isinstance(like, numbers.Real):
            kinds, want_shape, what = "f", (), "a finite real scalar >= 0"
        else:
            like = backend.to_numpy(like)
            kinds, want_shape = like.dtype.kind, tuple(like.shape)
            what = f"{'a real floating' if kinds == 'f' else like.dtype.name} array of shape " \
                   f"{want_shape}"
        if dtype.kind not in kinds or shape != want_shape:
            self._fail(f"'{name}': expected {what}, got {dtype} of shape {shape}")
        value = self._reader.read(name, want_shape)
        if dtype.kind == "f" and not numpy.isfinite(value).all():
            bad = int(value.size - numpy.isfinite(value).sum())
            self._fail(f"'{name}': {bad} of {value.size} values are NaN or infinite")
        if not want_shape:
            value = value.item()
            if value < 0 or value > (MAX_SEED if key == "seed" else MAX_STEPS):
                self._fail(f"'{name}': expected {what}, got {value}")
        return value


def _few(names):
    return f"{names[:8]}{' ...' if len(names) > 8 else ''}"


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_STEPS
