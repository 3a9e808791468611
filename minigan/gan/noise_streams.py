"""The trainer's noise streams: each use of randomness in a step draws from its own
generator, seeded by (seed, step, stream), so a run is reproducible from (seed, step) --
also after a resume, without saving generator state (CuPy's cannot be serialised).

The G step and ``Trainer.sample`` use fixed streams; D step k uses the block of streams
``d_stream(k) = D_STREAMS + D_STRIDE * k``, plus the offset of each use within the block.
The numbers are part of a run's reproducibility: changing one changes every run's noise.
"""

from .. import backend

# the G step, and Trainer.sample's default noise
G_NOISE = 1             # z of the G step
G_LABELS = 2            # the fake labels of a conditional G step
G_INSTANCE_NOISE = 3    # the instance noise on the G step's fakes
SAMPLE = 4              # Trainer.sample's z when none is given

# D step k: streams d_stream(k) + offset
D_STREAMS = 16          # the first D step's block
D_STRIDE = 8            # streams per D step
D_NOISE = 0             # z of the D step's fakes
D_LABELS = 1            # their labels (conditional models)
D_REPLAY = 2            # which fakes the replay buffer replaces
D_REAL_INSTANCE_NOISE = 3
D_FAKE_INSTANCE_NOISE = 4
D_INTERPOLATION = 5     # WGAN-GP's interpolation weights eps


def d_stream(k):
    """The first stream of D step k (0-based) within a step."""
    return D_STREAMS + D_STRIDE * k


def stream_rng(seed, step, stream):
    """A generator for (seed, step, stream). The hash of a tuple of ints is the same in
    every Python process."""
    return backend.default_rng(backend.derived_seed(seed, step, stream))
