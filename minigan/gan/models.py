"""Ready-made GAN networks for 28x28x1 images (MNIST, Fashion-MNIST), images NHWC.

- ``dcgan_generator`` / ``dcgan_discriminator``: the MNIST DCGAN
  (Radford et al. 2016 style: strided (transposed) convolutions, BatchNorm,
  ReLU in G, LeakyReLU(0.2) in D, tanh output, N(0, 0.02) initialisation).
- ``dcgan_critic``: that discriminator with LayerNorm in place of BatchNorm, the critic a
  gradient penalty can differentiate twice (WGAN-GP, Gulrajani et al. 2017; R1).
- ``mlp_generator`` / ``mlp_discriminator``: fully connected GAN (Goodfellow et al. 2014
  style), quick to train on a CPU.
- ``conditional_generator`` / ``conditional_discriminator``: the conditional GAN of
  Mirza & Osindero (2014): the class label, one-hot, is concatenated to the input of
  both networks (``minigan.nn.concat.LabelConditioned``); call them as
  ``G(z, labels)`` and ``D(images, labels)``.
- ``dcgan_init_`` (``dcgan_init.py``): DCGAN's initialisation of a whole model.

The (G, D) pair by name ("dcgan", ..., and the models of their own files,
``conditional_dcgan.py`` and ``progressive.py``) is ``build_models`` in ``model_names.py``.

Generators map noise (N, latent_dim) to images (N, 28, 28, 1) in [-1, 1]; discriminators
map images to raw scores (N, 1): logits for the BCE objectives, critic values for WGAN
(see ``minigan.gan.objectives``). Every builder takes ``dtype`` (float32 by default) and
``rng`` (a generator from ``minigan.backend.default_rng``; None uses the global one).
"""

import math

from ..errors import ConfigError
from ..nn import (
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Dense,
    Flatten,
    LayerNorm,
    LeakyReLU,
    MinibatchStdDev,
    ReLU,
    Reshape,
    Sequential,
    SpectralNorm,
    Tanh,
)
from ..nn.concat import LabelConditioned
from ..validate import class_count, float_dtype, is_int, positive_int, true_or_false
from .dcgan_init import dcgan_init_

LEAKY_SLOPE = 0.2
MNIST_SHAPE = (28, 28, 1)


def dcgan_generator(latent_dim=100, *, dtype=None, rng=None):
    """The MNIST DCGAN generator, 100 -> 7x7x128 -> 14x14x64 -> 28x28x1, a ``Sequential``
    of exactly these layers::

        0 Dense(latent_dim, 7*7*128)             z (N, latent_dim) -> (N, 6272)
        1 Reshape(7, 7, 128)                     -> (N, 7, 7, 128)
        2 ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1)
                                                 -> (N, 14, 14, 64)
        3 BatchNorm2d(64)
        4 ReLU
        5 ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1)
                                                 -> (N, 28, 28, 1)
        6 Tanh                                   images in [-1, 1]

    (transposed conv size: (7 - 1)*2 - 2*2 + 5 + 1 = 14, (14 - 1)*2 - 4 + 5 + 1 = 28.)
    No normalisation or activation follows the first Dense (the projection of z feeds the
    first transposed convolution directly).
    Weights ~ N(0, 0.02^2), biases 0, BatchNorm gamma ~ N(1, 0.02^2) (``dcgan_init_``).
    """
    latent_dim = positive_int("dcgan_generator", "latent_dim", latent_dim)
    dtype = float_dtype("dcgan_generator", dtype)
    model = Sequential(
        Dense(latent_dim, 7 * 7 * 128, dtype=dtype, rng=rng),
        Reshape(7, 7, 128),
        ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, dtype=dtype, rng=rng),
        BatchNorm2d(64, dtype=dtype),
        ReLU(),
        ConvTranspose2d(64, 1, 5, stride=2, padding=2, output_padding=1, dtype=dtype, rng=rng),
        Tanh(),
    )
    return dcgan_init_(model, rng)


def dcgan_discriminator(*, spectral_norm=False, minibatch_stddev=False, dtype=None, rng=None):
    """The MNIST DCGAN discriminator, 28x28x1 -> 14x14x64 -> 7x7x128 -> one logit, a
    ``Sequential`` of exactly these layers::

        0 Conv2d(1, 64, 5, stride=2, padding=2)      x (N, 28, 28, 1) -> (N, 14, 14, 64)
        1 LeakyReLU(0.2)                             (no BatchNorm on the input layer)
        2 Conv2d(64, 128, 5, stride=2, padding=2)    -> (N, 7, 7, 128)
        3 BatchNorm2d(128)
        4 LeakyReLU(0.2)
        5 Flatten                                    -> (N, 6272)
        6 Dense(7*7*128, 1)                          -> logits (N, 1), no sigmoid

    (conv size: (28 + 4 - 5) // 2 + 1 = 14, (14 + 4 - 5) // 2 + 1 = 7.) The output is
    a raw score: the objectives apply the sigmoid inside a stable BCE where needed.
    Weights ~ N(0, 0.02^2), biases 0, BatchNorm gamma ~ N(1, 0.02^2).

    Two cures for unstable training and mode collapse, both off by default (the plain
    network above is the default):

    - ``spectral_norm=True`` wraps the two Conv2d and the Dense in ``SpectralNorm``
      (their weights are used as W / sigma(W); keys become "0.layer.weight", "0.u");
    - ``minibatch_stddev=True`` inserts ``MinibatchStdDev`` after layer 4: the batch's
      mean standard deviation becomes a 129th channel, and the Dense takes 7*7*129.
    """
    where = "dcgan_discriminator"
    dtype = float_dtype(where, dtype)
    spectral_norm = true_or_false(where, "spectral_norm", spectral_norm)
    minibatch_stddev = true_or_false(where, "minibatch_stddev", minibatch_stddev)
    channels = 128 + minibatch_stddev
    layers = [
        Conv2d(1, 64, 5, stride=2, padding=2, dtype=dtype, rng=rng),
        LeakyReLU(LEAKY_SLOPE),
        Conv2d(64, 128, 5, stride=2, padding=2, dtype=dtype, rng=rng),
        BatchNorm2d(128, dtype=dtype),
        LeakyReLU(LEAKY_SLOPE),
        *([MinibatchStdDev()] if minibatch_stddev else []),
        Flatten(),
        Dense(7 * 7 * channels, 1, dtype=dtype, rng=rng),
    ]
    dcgan_init_(Sequential(*layers), rng)
    if spectral_norm:
        layers = [SpectralNorm(layer, rng=rng) if isinstance(layer, (Conv2d, Dense)) else layer
                  for layer in layers]
    return Sequential(*layers)


def dcgan_critic(*, dtype=None, rng=None):
    """The MNIST DCGAN discriminator with LayerNorm in place of BatchNorm, a ``Sequential``::

        0 Conv2d(1, 64, 5, stride=2, padding=2)      x (N, 28, 28, 1) -> (N, 14, 14, 64)
        1 LeakyReLU(0.2)
        2 Conv2d(64, 128, 5, stride=2, padding=2)    -> (N, 7, 7, 128)
        3 LayerNorm((7, 7, 128))                     each image over all its values
        4 LeakyReLU(0.2)
        5 Flatten                                    -> (N, 6272)
        6 Dense(7*7*128, 1)                          -> critic values (N, 1)

    The critic of WGAN-GP (Gulrajani et al. 2017), who replace BatchNorm by layer
    normalisation: a gradient penalty is a per-sample quantity, and BatchNorm makes each
    sample's output depend on the whole batch. ``minigan.gan.gradient_penalty`` and
    ``r1_penalty`` accept it. Weights ~ N(0, 0.02^2), biases 0, LayerNorm gamma ~ N(1, 0.02^2).
    """
    dtype = float_dtype("dcgan_critic", dtype)
    return dcgan_init_(Sequential(
        Conv2d(1, 64, 5, stride=2, padding=2, dtype=dtype, rng=rng),
        LeakyReLU(LEAKY_SLOPE),
        Conv2d(64, 128, 5, stride=2, padding=2, dtype=dtype, rng=rng),
        LayerNorm((7, 7, 128), dtype=dtype),
        LeakyReLU(LEAKY_SLOPE),
        Flatten(),
        Dense(7 * 7 * 128, 1, dtype=dtype, rng=rng),
    ), rng)


def mlp_generator(latent_dim=100, hidden=(256, 512), image_shape=MNIST_SHAPE, *,
                  dtype=None, rng=None):
    """A fully connected generator, a ``Sequential``::

        Dense(latent_dim, hidden[0]), LeakyReLU(0.2), ..., Dense(hidden[-1], prod(image_shape)),
        Tanh, Reshape(*image_shape)          z (N, latent_dim) -> images (N, *image_shape)

    ``hidden`` may be empty (one Dense layer). Weights start Glorot-uniform, biases 0
    (the layers' default initialisation).
    """
    where = "mlp_generator"
    latent_dim = positive_int(where, "latent_dim", latent_dim)
    hidden = _hidden(where, hidden)
    image_shape = _image_shape(where, image_shape)
    dtype = float_dtype(where, dtype)
    return Sequential(*_mlp_generator_layers(latent_dim, hidden, image_shape, dtype, rng))


def mlp_discriminator(image_shape=MNIST_SHAPE, hidden=(512, 256), *, spectral_norm=False,
                      minibatch_stddev=False, dtype=None, rng=None):
    """A fully connected discriminator, a ``Sequential``::

        Flatten, Dense(prod(image_shape), hidden[0]), LeakyReLU(0.2), ..., Dense(hidden[-1], 1)
                                             images (N, *image_shape) -> logits (N, 1)

    Weights start Glorot-uniform, biases 0. ``spectral_norm=True`` wraps every Dense in
    ``SpectralNorm``; ``minibatch_stddev=True`` inserts ``MinibatchStdDev`` before the last
    Dense (one more input feature), as in ``dcgan_discriminator``.
    """
    where = "mlp_discriminator"
    image_shape = _image_shape(where, image_shape)
    hidden = _hidden(where, hidden)
    dtype = float_dtype(where, dtype)
    layers = [Flatten(), *_mlp_stack(math.prod(image_shape), hidden, 1, dtype, rng)]
    return Sequential(*_with_cures(where, layers, spectral_norm, minibatch_stddev, dtype, rng))


def conditional_generator(latent_dim=100, num_classes=10, hidden=(256, 512),
                          image_shape=MNIST_SHAPE, *, dtype=None, rng=None):
    """Conditional GAN generator (Mirza & Osindero 2014): ``G(z, labels)``.

    A ``LabelConditioned`` module: z (N, latent_dim) and labels (N,) int in
    [0, num_classes) -> [z, onehot(labels)] (N, latent_dim + num_classes) -> the MLP
    generator stack (Dense / LeakyReLU(0.2) ..., Dense, Tanh, Reshape) -> images
    (N, *image_shape) in [-1, 1]. ``G.backward(gy)`` returns dL/dz only.
    state_dict keys: "net.0.weight", ...
    """
    where = "conditional_generator"
    latent_dim = positive_int(where, "latent_dim", latent_dim)
    num_classes = class_count(where, num_classes)
    hidden = _hidden(where, hidden)
    image_shape = _image_shape(where, image_shape)
    dtype = float_dtype(where, dtype)
    inner = Sequential(*_mlp_generator_layers(latent_dim + num_classes, hidden, image_shape,
                                              dtype, rng))
    return LabelConditioned(inner, num_classes, input_shape=(latent_dim,))


def conditional_discriminator(num_classes=10, image_shape=MNIST_SHAPE, hidden=(512, 256), *,
                              spectral_norm=False, minibatch_stddev=False, dtype=None, rng=None):
    """Conditional GAN discriminator (Mirza & Osindero 2014): ``D(images, labels)``.

    A ``LabelConditioned`` module: images (N, *image_shape) and labels (N,) ->
    [flatten(images), onehot(labels)] (N, prod(image_shape) + num_classes) ->
    Dense / LeakyReLU(0.2) ..., Dense(hidden[-1], 1) -> logits (N, 1).
    ``D.backward(gy)`` returns dL/dimages only (shape (N, *image_shape)).
    ``spectral_norm`` and ``minibatch_stddev`` change the inner network as in
    ``mlp_discriminator`` (keys "net.0.layer.weight", ...).
    """
    where = "conditional_discriminator"
    num_classes = class_count(where, num_classes)
    image_shape = _image_shape(where, image_shape)
    hidden = _hidden(where, hidden)
    dtype = float_dtype(where, dtype)
    layers = _mlp_stack(math.prod(image_shape) + num_classes, hidden, 1, dtype, rng)
    inner = Sequential(*_with_cures(where, layers, spectral_norm, minibatch_stddev, dtype, rng))
    return LabelConditioned(inner, num_classes, input_shape=image_shape)


# -- building blocks ------------------------------------------------------------------------

def _mlp_stack(in_features, hidden, out_features, dtype, rng):
    """Dense, LeakyReLU(0.2) for each hidden width, then a last Dense (no activation)."""
    layers = []
    for width in hidden:
        layers += [Dense(in_features, width, dtype=dtype, rng=rng), LeakyReLU(LEAKY_SLOPE)]
        in_features = width
    layers.append(Dense(in_features, out_features, dtype=dtype, rng=rng))
    return layers


def _with_cures(where, layers, spectral_norm, minibatch_stddev, dtype, rng):
    """An MLP discriminator's layers with the mode-collapse cures: ``MinibatchStdDev``
    before the last Dense (which gets one more input), every Dense in ``SpectralNorm``."""
    spectral_norm = true_or_false(where, "spectral_norm", spectral_norm)
    minibatch_stddev = true_or_false(where, "minibatch_stddev", minibatch_stddev)
    if minibatch_stddev:
        last = layers.pop()
        layers += [MinibatchStdDev(), Dense(last.weight.shape[0] + 1, 1, dtype=dtype, rng=rng)]
    if spectral_norm:
        layers = [SpectralNorm(layer, rng=rng) if isinstance(layer, Dense) else layer
                  for layer in layers]
    return layers


def _mlp_generator_layers(in_features, hidden, image_shape, dtype, rng):
    return _mlp_stack(in_features, hidden, math.prod(image_shape), dtype, rng) + [
        Tanh(), Reshape(*image_shape)]


def is_conditional(model):
    """Whether ``model`` takes class labels with its input (``model(x, labels)``): the
    conditional models (``LabelConditioned``, ``ProjectionDiscriminator``, ...) say how many
    classes they know in ``num_classes``."""
    return hasattr(model, "num_classes")


# -- validation -----------------------------------------------------------------------------

def _hidden(where, value):
    if is_int(value):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not all(is_int(w) and w > 0 for w in value):
        raise ConfigError(f"{where}: hidden must be a tuple of positive ints (layer widths), "
                          f"got {value!r}")
    return tuple(int(w) for w in value)


def _image_shape(where, value):
    if (not isinstance(value, (tuple, list)) or not value
            or not all(is_int(d) and d > 0 for d in value)):
        raise ConfigError(f"{where}: image_shape must be a tuple of positive ints "
                          f"(H, W, C), got {value!r}")
    return tuple(int(d) for d in value)
