"""Drawing samples from a trainer's generator: ``Trainer.sample`` and the unchecked
forward pass the training step uses."""

from .. import backend, engine
from ..nn.minibatch_stddev import MinibatchStdDev
from ..validate import check_finite, check_floating, positive_int
from . import noise_streams
from .models import is_conditional
from .validate_trainer import check_sample_count


def generate(G, z, labels):
    """G's unchecked forward (``run_forward``) on z, with labels for a conditional G."""
    return G.run_forward(z) if labels is None else G.run_forward(z, labels)


def sample(trainer, n, z=None, labels=None):
    """n samples from ``trainer.G`` in eval mode (see ``Trainer.sample``); G's mode is
    restored afterwards. ``z`` fixes the noise."""
    n = positive_int("Trainer.sample", "n", n)
    check_sample_count(n)
    if z is None:
        z = trainer.noise(n, noise_streams.SAMPLE)
    else:
        check_floating("Trainer.sample", "z", z, f"(n, {trainer.latent_dim})")
        check_finite("Trainer.sample", "z", z)
    G = trainer.G
    if labels is not None and is_conditional(G):
        labels = G.check_labels(labels, n)
    was_training = G.training
    G.eval()
    try:
        with engine.region():
            return generate_in_chunks(G, z, labels)
    finally:
        G.train(was_training)


def generate_in_chunks(G, z, labels):
    """G(z) in eval mode, ``engine.sample_chunk()`` samples per forward pass (all at
    once when it is None, as on a GPU).

    In eval mode each sample's image depends on its own z only (BatchNorm uses its
    running statistics), so passes of a few samples give the same images as one pass;
    on a CPU their activations stay small enough to be reused and cached. A generator
    with a layer that mixes the samples (MinibatchStdDev) always runs whole.
    """
    n, chunk = z.shape[0], engine.sample_chunk()
    if (chunk is None or n <= chunk
            or any(isinstance(m, MinibatchStdDev) for m in G.modules())):
        return generate(G, z, labels)
    parts = [generate(G, z[s:s + chunk], None if labels is None else labels[s:s + chunk])
             for s in range(0, n, chunk)]
    return backend.xp.concatenate(parts)
