"""The MNIST DCGAN with class labels (a conditional GAN, Mirza & Osindero 2014): the
DCGAN's convolutions, told which digit to draw and to judge.

- ``conditional_dcgan_generator``: G(z, y) is the DCGAN generator applied to
  [z, onehot(y)] (latent_dim + num_classes numbers): the label joins z before the first
  Dense, which projects both to the 7x7x128 map (``minigan.nn.LabelConditioned``).
- ``conditional_dcgan_discriminator``: a projection discriminator (Miyato & Koyama 2018,
  ``minigan.nn.ProjectionDiscriminator``): the DCGAN discriminator's convolutions give
  features h (N, 7*7*128); D(x, y) = Dense(h) + <E[y], h> with a learned (10, 6272)
  class-embedding matrix E.

Why projection for D rather than one-hot label planes concatenated to the image: the
planes would add 10 constant input channels to the first convolution, which it can only
use through its first layer's weights, while the projection adds the label where the
theory puts it -- an optimal conditional D's logit is the unconditional one plus a term
of the form <class vector, features> (Miyato & Koyama §3) -- at the cost of one Dense on
a one-hot code. Both networks keep the DCGAN's layers, sizes and initialisation, so the
conditional and unconditional models can be compared directly.
"""

from ..nn import Dense, ProjectionDiscriminator, Sequential, SpectralNorm
from ..nn.concat import LabelConditioned
from ..validate import class_count, float_dtype, positive_int, true_or_false
from .dcgan_init import dcgan_init_
from .models import dcgan_discriminator, dcgan_generator


def conditional_dcgan_generator(latent_dim=100, num_classes=10, *, dtype=None, rng=None):
    """G(z, labels): z (N, latent_dim) and labels (N,) -> images (N, 28, 28, 1) in [-1, 1].

    ``LabelConditioned(dcgan_generator(latent_dim + num_classes), num_classes,
    input_shape=(latent_dim,))``: the DCGAN generator (Dense, Reshape, ConvTranspose2d,
    BatchNorm2d, ReLU, ConvTranspose2d, Tanh) on [z, onehot(labels)]. state_dict keys
    "net.0.weight", ...; ``G.backward(gy)`` returns dL/dz.
    """
    where = "conditional_dcgan_generator"
    latent_dim = positive_int(where, "latent_dim", latent_dim)
    num_classes = class_count(where, num_classes)
    inner = dcgan_generator(latent_dim + num_classes, dtype=float_dtype(where, dtype), rng=rng)
    return LabelConditioned(inner, num_classes, input_shape=(latent_dim,))


def conditional_dcgan_discriminator(num_classes=10, *, spectral_norm=False,
                                    minibatch_stddev=False, dtype=None, rng=None):
    """D(images, labels): images (N, 28, 28, 1) and labels (N,) -> raw scores (N, 1).

    A ``ProjectionDiscriminator``::

        trunk  the DCGAN discriminator's layers 0-5: Conv2d(1, 64, 5, 2, 2), LeakyReLU(0.2),
               Conv2d(64, 128, 5, 2, 2), BatchNorm2d(128), LeakyReLU(0.2),
               [MinibatchStdDev], Flatten                        -> h (N, F), F = 7*7*128 (+49)
        head   Dense(F, 1)
        embed  Dense(num_classes, F, bias=False): the class embeddings E (num_classes, F)
        D(x, y) = head(h) + <E[y], h>

    Weights ~ N(0, 0.02^2) as in the DCGAN (E too), biases 0. ``spectral_norm=True``
    wraps the two Conv2d, the head and the embedding in ``SpectralNorm``;
    ``minibatch_stddev=True`` inserts ``MinibatchStdDev`` before the Flatten (one more
    channel of features), as in ``dcgan_discriminator``.
    """
    where = "conditional_dcgan_discriminator"
    num_classes = class_count(where, num_classes)
    spectral_norm = true_or_false(where, "spectral_norm", spectral_norm)
    minibatch_stddev = true_or_false(where, "minibatch_stddev", minibatch_stddev)
    dtype = float_dtype(where, dtype)
    dcgan = dcgan_discriminator(spectral_norm=spectral_norm, minibatch_stddev=minibatch_stddev,
                                dtype=dtype, rng=rng)
    trunk = Sequential(*dcgan.layers[:-1])                 # everything but the last Dense
    features = 7 * 7 * (128 + minibatch_stddev)
    head = dcgan.layers[-1]                                # Dense(F, 1), DCGAN-initialised
    embed = Dense(num_classes, features, bias=False, dtype=dtype, rng=rng)
    dcgan_init_(embed, rng)
    if spectral_norm:
        embed = SpectralNorm(embed, rng=rng)
    return ProjectionDiscriminator(trunk, head, embed)
