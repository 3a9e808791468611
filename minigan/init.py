"""Weight initialisers. Each returns a new array of the active backend.

- ``normal``: N(0, std^2); DCGAN uses std = 0.02 (``dcgan_normal``).
- ``he_normal`` / ``he_uniform``: variance 2 / fan_in (He et al. 2015, for ReLU nets).
- ``glorot_normal`` / ``glorot_uniform``: variance 2 / (fan_in + fan_out)
  (Glorot & Bengio 2010); ``glorot_uniform`` is the layers' default.

``rng`` is a generator from ``minigan.backend.default_rng``; None uses the global
one (``minigan.backend.seed`` makes it reproducible). DCGAN's initialisation of a whole
model is ``minigan.gan.dcgan_init_``.
"""

import math

from . import backend

DEFAULT_DTYPE = "float32"


def _rng(rng):
    return backend.global_rng() if rng is None else rng


def _dtype(dtype):
    return backend.xp.dtype(DEFAULT_DTYPE if dtype is None else dtype)


def zeros(shape, dtype=None):
    return backend.xp.zeros(shape, dtype=_dtype(dtype))


def ones(shape, dtype=None):
    return backend.xp.ones(shape, dtype=_dtype(dtype))


def normal(shape, std=1.0, mean=0.0, rng=None, dtype=None):
    """N(mean, std^2) samples."""
    a = _rng(rng).standard_normal(shape, dtype=_dtype(dtype))
    a *= std
    a += mean
    return a


def uniform(shape, limit, rng=None, dtype=None):
    """U(-limit, limit) samples."""
    a = _rng(rng).random(shape, dtype=_dtype(dtype))
    a *= 2 * limit
    a -= limit
    return a


def dcgan_normal(shape, rng=None, dtype=None):
    """N(0, 0.02^2), the initialisation of Radford et al. (2016)."""
    return normal(shape, std=0.02, rng=rng, dtype=dtype)


def he_normal(shape, fan_in, rng=None, dtype=None):
    return normal(shape, std=math.sqrt(2.0 / fan_in), rng=rng, dtype=dtype)


def he_uniform(shape, fan_in, rng=None, dtype=None):
    return uniform(shape, math.sqrt(6.0 / fan_in), rng=rng, dtype=dtype)


def glorot_normal(shape, fan_in, fan_out, rng=None, dtype=None):
    return normal(shape, std=math.sqrt(2.0 / (fan_in + fan_out)), rng=rng, dtype=dtype)


def glorot_uniform(shape, fan_in, fan_out, rng=None, dtype=None):
    return uniform(shape, math.sqrt(6.0 / (fan_in + fan_out)), rng=rng, dtype=dtype)
