"""Training a progressive GAN: the Trainer's step at a resolution that grows (Karras et al.
2018, "Progressive Growing of GANs").

Each ``ProgressiveTrainer.step(real)``, with ``real`` at the full resolution (N, 28, 28, C):

1. the ``GrowthSchedule`` gives the step's stage and alpha; at the first step of a new
   stage both optimisers' state is reset (moments and step count back to 0, learning
   rates kept), as Karras et al.'s code does when new layers are introduced;
2. G and D are grown to that stage and alpha (``grow``);
3. the real batch is brought to the stage's resolution by average pooling and, during a
   fade, blended the way G's output is: alpha * x + (1 - alpha) * up(pool(x)), so that D
   sees real and fake images with the same mix of detail (Karras et al. fade the real
   images too);
4. an ordinary ``Trainer`` step at that resolution;
5. after the last step of a stage, G's images of a fixed z (``SNAPSHOT_COUNT`` of them,
   at that stage's resolution) are kept: ``stage_snapshots()``.

The schedule's counters and the snapshots are part of ``state_dict()``: a run resumed at
any step, in the middle of a fade too, continues exactly.
"""

from .. import backend
from .. import functional as F
from ..errors import ConfigError, ShapeError, StateError
from ..validate import check_floating
from .growth import GrowthSchedule
from .progressive import RESOLUTIONS, ProgressiveDiscriminator, ProgressiveGenerator
from .trainer import Trainer

STAGE_STEPS = 156
"""The default steps per growth phase (``minigan train --model progressive``): about two
epochs of the embedded sample at batch 64 (two of all 5,000 digits, 2.2 of the 4,500 a run
trains on) at 7x7, as many fading in 14x14, at it, fading in 28x28, then 28x28 to the end."""
SNAPSHOT_COUNT = 8
SNAPSHOT_SEED = 20180215   # the fixed z of the stage snapshots
PREFIX = "growth."


class ProgressiveTrainer(Trainer):
    """A ``Trainer`` for a ``ProgressiveGenerator`` and ``ProgressiveDiscriminator`` that
    grows them on a ``GrowthSchedule(stage_steps)`` (the module docstring says how).

    ``stage_steps``: generator steps per phase (stage 0; each fade; each stabilising
    phase). The other arguments are the Trainer's (``replay_size`` is refused: stored
    fakes would have the resolution of their time). ``step(real)`` takes full-size
    images and adds ``stage``, ``resolution`` and ``alpha`` to its numbers; ``sample``
    returns full-size images (nearest-upsampled below the last stage; ``native=True``:
    the stage's own resolution); ``schedule`` is the GrowthSchedule.
    """

    def __init__(self, G, D, *args, stage_steps, **kwargs):
        if not (isinstance(G, ProgressiveGenerator) and isinstance(D, ProgressiveDiscriminator)):
            raise ConfigError(f"ProgressiveTrainer: expected a ProgressiveGenerator and a "
                              f"ProgressiveDiscriminator, got {type(G).__name__} and "
                              f"{type(D).__name__}")
        if kwargs.get("replay_size"):
            raise ConfigError("ProgressiveTrainer: replay_size must be 0: the stored fakes "
                              "would keep the resolution of the stage that made them")
        super().__init__(G, D, *args, **kwargs)
        self.schedule = GrowthSchedule(stage_steps, len(RESOLUTIONS))
        self._grow_models(self.schedule)
        dtype = G.parameters()[0].dtype
        self.snapshot_z = backend.default_rng(SNAPSHOT_SEED).standard_normal(
            (SNAPSHOT_COUNT, self.latent_dim), dtype=dtype)
        self._snapshots = {r: backend.xp.zeros((SNAPSHOT_COUNT, r, r, 1), dtype=dtype)
                           for r in RESOLUTIONS[:-1]}

    # -- one training step ----------------------------------------------------
    def step(self, real, labels=None):
        """One Trainer step at the schedule's next stage and alpha, on ``real`` (N, 28, 28, C)
        brought to that resolution; the numbers also give stage, resolution and alpha."""
        full = RESOLUTIONS[-1]
        check_floating("ProgressiveTrainer.step", "real", real, f"(N, {full}, {full}, C) NHWC")
        if real.ndim != 4 or real.shape[1:3] != (full, full):
            raise ShapeError(f"ProgressiveTrainer.step: real must be full-size images "
                             f"(N, {full}, {full}, C) NHWC (the last stage's resolution), got "
                             f"shape {tuple(real.shape)}")
        stage, _, alpha, grown = self.schedule.next()
        if grown:  # new layers join: the optimisers start afresh
            reset_optimizer(self.opt_d)
            reset_optimizer(self.opt_g)
        self.G.grow(stage, alpha)
        self.D.grow(stage, alpha)
        try:
            stats = super().step(real_at(real, stage, alpha), labels)
        except BaseException:
            self._grow_models(self.schedule)   # back to the last step's stage and alpha
            raise
        self.schedule.advance()
        if self.schedule.ended():
            self._snapshots[RESOLUTIONS[stage]] = super().sample(SNAPSHOT_COUNT, z=self.snapshot_z)
        stats.update(stage=stage, resolution=RESOLUTIONS[stage], alpha=alpha)
        return stats

    def _grow_models(self, schedule):
        self.G.grow(schedule.stage, schedule.alpha)
        self.D.grow(schedule.stage, schedule.alpha)

    # -- sampling -------------------------------------------------------------
    def sample(self, n, z=None, labels=None, *, native=False):
        """n samples from G at its stage and alpha: full-size images (n, 28, 28, 1), a
        stage below the last one nearest-upsampled to it; ``native=True``: the stage's own
        resolution."""
        images = super().sample(n, z=z, labels=labels)
        factor = RESOLUTIONS[-1] // self.G.resolution
        if native or factor == 1:
            return images
        return F.upsample_nearest_forward(images, factor)[0]

    def stage_snapshots(self):
        """[(resolution, images of the fixed z)] for every stage that has ended, in order."""
        ended = self.schedule.stage + (1 if self.schedule.ended() else 0)
        return [(r, self._snapshots[r]) for r in RESOLUTIONS[:ended]]

    def describe(self):
        """The generator's state in words, e.g. "14x14, alpha 0.40 (fade)"."""
        r = self.G.resolution
        return f"{r}x{r}, alpha {self.schedule.alpha:.2f} ({self.schedule.phase})"

    # -- state for checkpoints ------------------------------------------------
    def state_dict(self):
        """The Trainer's state, the schedule's counters ("growth.stage", "growth.stage_step",
        "growth.alpha") and the stage snapshots ("growth.snapshot_7", ...)."""
        state = super().state_dict()
        state.update({PREFIX + k: v for k, v in self.schedule.state_dict().items()})
        state.update({f"{PREFIX}snapshot_{r}": images.copy()
                      for r, images in self._snapshots.items()})
        return state

    def _load_state_dict(self, state):
        schedule = GrowthSchedule(self.schedule.stage_steps, self.schedule.stages)
        schedule.load_state_dict({k[len(PREFIX):]: v for k, v in state.items()
                                  if k.startswith(PREFIX) and "snapshot" not in k})
        snapshots = {}
        for r, like in self._snapshots.items():
            key = f"{PREFIX}snapshot_{r}"
            if key not in state or tuple(state[key].shape) != like.shape:
                raise StateError(f"ProgressiveTrainer.load_state_dict: '{key}' must be an array "
                                 f"of shape {like.shape}, got "
                                 f"{tuple(state[key].shape) if key in state else 'nothing'}")
            snapshots[r] = backend.to_device(state[key]).astype(like.dtype, copy=True)
        super()._load_state_dict({k: v for k, v in state.items() if not k.startswith(PREFIX)})
        self.schedule, self._snapshots = schedule, snapshots
        self._grow_models(schedule)


def real_at(real, stage, alpha):
    """Full-size real images as D sees them at ``stage`` and ``alpha``: average-pooled to
    the stage's resolution, and during a fade blended with their own 2x coarser version,
    alpha * x + (1 - alpha) * up(pool(x))."""
    factor = RESOLUTIONS[-1] // RESOLUTIONS[stage]
    x = real if factor == 1 else F.avg_pool2d_forward(real, factor)[0]
    if alpha == 1:
        return x
    coarse = F.upsample_nearest_forward(F.avg_pool2d_forward(x, 2)[0], 2)[0]
    return F.fade_forward(x, coarse, alpha)[0]


def as_seen_by_d(trainer, real):
    """A batch of full-size real images as the trainer's D sees them now: ``real_at`` its
    stage and alpha for a ProgressiveTrainer, ``real`` itself for any other trainer."""
    if not isinstance(trainer, ProgressiveTrainer):
        return real
    return real_at(real, trainer.schedule.stage, trainer.schedule.alpha)


def reset_optimizer(optimizer):
    """An optimiser's state back to its start: every array (Adam's moments) to zeros, every
    integer (the step count) to 0; numbers such as the learning rate are kept."""
    xp = backend.xp
    state = {key: xp.zeros_like(value) if hasattr(value, "shape")
             else 0 if isinstance(value, int) else value
             for key, value in optimizer.state_dict().items()}
    optimizer.load_state_dict(state)


def growth_note(trainer):
    """For a progressive trainer whose generator is below the full size: what its images
    are and how they are shown, e.g. "generator at 14x14, alpha 0.40 (fade); images
    nearest-upsampled to 28x28"; for a full-size one its stage; else None."""
    if not isinstance(trainer, ProgressiveTrainer):
        return None
    note = f"generator at {trainer.describe()}"
    full = RESOLUTIONS[-1]
    if trainer.G.resolution < full:
        note += f"; images nearest-upsampled to {full}x{full}"
    return note
