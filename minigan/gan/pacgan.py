"""PacGAN's networks for the 2-D mixtures (Lin, Khetan, Fanti, Oh, NeurIPS 2018, following
VEEGAN's experiments, Srivastava et al. 2017): the generator and the (packed) discriminator
of its Table 1, with every weight N(0, 0.02^2) and every bias 0.

- ``pacgan_generator``: z (N, latent_dim) ~ N(0, I) -> 4 x (Dense 400, BatchNorm1d, ReLU)
  -> Dense 2 -> x (N, 2);
- ``pacgan_discriminator``: x (N, 2*pack) -> 3 x Maxout(200 units, 5 pieces) -> Dense 1
  -> logit (N, 1). ``pack`` = m sizes the input for m packed samples
  (``Trainer(..., pack=m)``, ``minigan.gan.packing``).

The discriminator can carry the mode-collapse remedies of ``mlp_discriminator``:
``minibatch_stddev`` (Karras et al. 2018) before the last Dense, ``spectral_norm``
(Miyato et al. 2018) on every Maxout and Dense. Without them it has no layer that mixes
the samples, so it is also the critic of WGAN-GP and the D of R1.
"""

from ..checks import float_dtype, positive_int
from ..errors import ConfigError
from ..init import normal
from ..nn import BatchNorm1d, Dense, Maxout, MinibatchStdDev, ReLU, Sequential, SpectralNorm

HIDDEN_G, LAYERS_G = 400, 4
UNITS_D, PIECES_D, LAYERS_D = 200, 5, 3
INIT_STD = 0.02


def pacgan_generator(latent_dim=2, *, data_dim=2, dtype=None, rng=None):
    """PacGAN's generator, a ``Sequential`` of exactly these layers::

        0 Dense(latent_dim, 400)  1 BatchNorm1d(400)  2 ReLU      z (N, latent_dim)
        3 Dense(400, 400)         4 BatchNorm1d(400)  5 ReLU
        6 Dense(400, 400)         7 BatchNorm1d(400)  8 ReLU
        9 Dense(400, 400)        10 BatchNorm1d(400) 11 ReLU
       12 Dense(400, data_dim)                                    -> x (N, data_dim)

    Dense weights N(0, 0.02^2), biases 0; BatchNorm gamma 1, beta 0. No output activation
    (the grid reaches +-4)."""
    where = "pacgan_generator"
    latent_dim = positive_int(where, "latent_dim", latent_dim)
    data_dim = positive_int(where, "data_dim", data_dim)
    dtype = float_dtype(where, dtype)
    layers, width = [], latent_dim
    for _ in range(LAYERS_G):
        layers += [_init(Dense(width, HIDDEN_G, dtype=dtype), rng),
                   BatchNorm1d(HIDDEN_G, dtype=dtype), ReLU()]
        width = HIDDEN_G
    layers.append(_init(Dense(width, data_dim, dtype=dtype), rng))
    return Sequential(*layers)


def pacgan_discriminator(pack=1, *, data_dim=2, minibatch_stddev=False, spectral_norm=False,
                         dtype=None, rng=None):
    """PacGAN's discriminator for ``pack`` samples of ``data_dim`` numbers, a ``Sequential``::

        0 Maxout(pack*data_dim, 200, pieces=5)    x (N, pack*data_dim)
        1 Maxout(200, 200, pieces=5)
        2 Maxout(200, 200, pieces=5)
        3 Dense(200, 1)                           -> logit (N, 1)

    With ``minibatch_stddev=True`` a ``MinibatchStdDev`` comes before the last layer (then
    Dense(201, 1)); with ``spectral_norm=True`` every Maxout and Dense is wrapped in
    ``SpectralNorm``. Weights N(0, 0.02^2), biases 0."""
    where = "pacgan_discriminator"
    pack = positive_int(where, "pack", pack)
    data_dim = positive_int(where, "data_dim", data_dim)
    minibatch_stddev = _flag(where, "minibatch_stddev", minibatch_stddev)
    spectral_norm = _flag(where, "spectral_norm", spectral_norm)
    dtype = float_dtype(where, dtype)
    layers, width = [], pack * data_dim
    for _ in range(LAYERS_D):
        layers.append(_init(Maxout(width, UNITS_D, PIECES_D, dtype=dtype), rng))
        width = UNITS_D
    if minibatch_stddev:
        layers.append(MinibatchStdDev())
        width += 1
    layers.append(_init(Dense(width, 1, dtype=dtype), rng))
    if spectral_norm:
        layers = [SpectralNorm(layer, rng=rng) if isinstance(layer, (Dense, Maxout)) else layer
                  for layer in layers]
    return Sequential(*layers)


def _flag(where, name, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {name} must be True or False, got {value!r}")
    return value


def _init(layer, rng):
    """weight ~ N(0, 0.02^2) (in place), bias 0 (as built)."""
    weight = layer.weight.data
    weight[...] = normal(weight.shape, INIT_STD, rng=rng, dtype=weight.dtype)
    return layer
