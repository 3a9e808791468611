"""The GAN models by name: ``build_models("dcgan")`` and the other names of ``MODELS``
give a (G, D) pair, from ``models.py``, ``conditional_dcgan.py`` or ``progressive.py``."""

from ..errors import ConfigError
from .conditional_dcgan import conditional_dcgan_discriminator, conditional_dcgan_generator
from .models import (
    conditional_discriminator,
    conditional_generator,
    dcgan_critic,
    dcgan_discriminator,
    dcgan_generator,
    mlp_discriminator,
    mlp_generator,
)
from .progressive import ProgressiveDiscriminator, ProgressiveGenerator

MODELS = ("dcgan", "mlp", "conditional", "conditional-dcgan", "progressive")
"""The names ``build_models`` (and the CLI's ``--model``) accept."""


def build_models(model="dcgan", latent_dim=100, *, num_classes=10, spectral_norm=False,
                 minibatch_stddev=False, equalized_lr=False, critic=False, dtype=None,
                 rng=None):
    """(G, D) for ``model``, with the builders' default sizes:

    - "dcgan": ``dcgan_generator`` / ``dcgan_discriminator``;
    - "mlp": ``mlp_generator`` / ``mlp_discriminator``;
    - "conditional": ``conditional_generator`` / ``conditional_discriminator`` (MLPs);
    - "conditional-dcgan": ``conditional_dcgan_generator`` /
      ``conditional_dcgan_discriminator`` (the DCGAN with labels, a projection D);
    - "progressive": ``ProgressiveGenerator`` / ``ProgressiveDiscriminator``.

    The conditional models are called with labels and have a ``num_classes`` attribute.
    ``spectral_norm`` / ``minibatch_stddev`` go to every discriminator but the progressive
    one, which takes ``minibatch_stddev`` and ``equalized_lr`` (progressive only).
    ``critic=True`` asks for a D that a gradient penalty can differentiate:
    ``dcgan_critic`` for "dcgan", the MLP discriminator (no BatchNorm) for "mlp"; the
    cures and the other models are refused."""
    cures = {"spectral_norm": spectral_norm, "minibatch_stddev": minibatch_stddev}
    if model not in MODELS:
        raise ConfigError(f"build_models: unknown model {model!r}: expected one of "
                          f"{', '.join(repr(m) for m in MODELS)}")
    if critic and (any(cures.values()) or model not in ("dcgan", "mlp")):
        raise ConfigError("build_models: a critic for a gradient penalty is offered for the "
                          "'dcgan' and 'mlp' models without spectral_norm or minibatch_stddev "
                          f"(they have no double backward), got model {model!r}, {cures}")
    if equalized_lr and model != "progressive":
        raise ConfigError(f"build_models: equalized_lr is offered for the 'progressive' model, "
                          f"got model {model!r}")
    if spectral_norm and model == "progressive":
        raise ConfigError("build_models: spectral_norm is offered for every model but "
                          "'progressive' (which offers equalized_lr)")
    if model == "dcgan":  # G first: both draw from rng, in this order
        G = dcgan_generator(latent_dim, dtype=dtype, rng=rng)
        D = (dcgan_critic(dtype=dtype, rng=rng) if critic
             else dcgan_discriminator(**cures, dtype=dtype, rng=rng))
        return G, D
    if model == "mlp":
        return (mlp_generator(latent_dim, dtype=dtype, rng=rng),
                mlp_discriminator(**cures, dtype=dtype, rng=rng))
    if model == "conditional":
        return (conditional_generator(latent_dim, num_classes, dtype=dtype, rng=rng),
                conditional_discriminator(num_classes, **cures, dtype=dtype, rng=rng))
    if model == "conditional-dcgan":
        return (conditional_dcgan_generator(latent_dim, num_classes, dtype=dtype, rng=rng),
                conditional_dcgan_discriminator(num_classes, **cures, dtype=dtype, rng=rng))
    return (ProgressiveGenerator(latent_dim, equalized_lr=equalized_lr, dtype=dtype, rng=rng),
            ProgressiveDiscriminator(minibatch_stddev=minibatch_stddev,
                                     equalized_lr=equalized_lr, dtype=dtype, rng=rng))
