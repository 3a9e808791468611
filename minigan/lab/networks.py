"""The GAN lab's networks: small MLPs on the plane, built from minigan's layers.

    G: z (N, latent_dim) -> Dense 64, LeakyReLU(0.2), Dense 64, LeakyReLU(0.2), Dense 2
    D: x (N, 2 m) -> ``mlp_discriminator`` with hidden (64, 64): Dense 64, LeakyReLU(0.2),
       Dense 64, LeakyReLU(0.2), Dense 1 -> one logit (or critic score) per sample;
       m = 2 with packing (PacGAN: D judges two samples side by side), else 1;
       spectral_norm wraps every Dense, minibatch_stddev adds the batch's std as one more
       feature before the last Dense.

Float32 (the layers' default), Glorot-uniform weights from a generator seeded by the
lab's seed.
"""

from .. import backend
from ..gan.models import mlp_discriminator
from ..nn import Dense, LeakyReLU, Sequential

HIDDEN = (64, 64)


def lab_generator(latent_dim, rng):
    layers, width = [], latent_dim
    for hidden in HIDDEN:
        layers += [Dense(width, hidden, rng=rng), LeakyReLU(0.2)]
        width = hidden
    return Sequential(*layers, Dense(width, 2, rng=rng))


def lab_discriminator(pack, spectral_norm, minibatch_stddev, rng):
    return mlp_discriminator(image_shape=(2 * pack,), hidden=HIDDEN,
                             spectral_norm=spectral_norm, minibatch_stddev=minibatch_stddev,
                             rng=rng)


def build(settings, pack):
    """(G, D) for the settings (latent_dim, spectral_norm, minibatch_stddev, seed)."""
    rng = backend.default_rng(settings["seed"])
    G = lab_generator(settings["latent_dim"], rng)
    D = lab_discriminator(pack, settings["spectral_norm"], settings["minibatch_stddev"], rng)
    return G, D
