"""The GAN lab's settings: their defaults, their checks, and which of them need new
networks.

A settings change is a dict of some of ``DEFAULTS``' keys; ``validate`` checks every
value against what it may be and returns the whole new settings, or raises a
``ConfigError`` naming the key, what it expects and what came (the server answers it with
HTTP 400). Keys in ``RESTART_KEYS`` change the networks' shapes or layers: the lab then
builds new networks; any other change continues from the current weights.
"""

import math

from ..errors import ConfigError
from .datasets import NAMES

LOSSES = ("non-saturating", "minimax", "lsgan", "hinge", "wgan", "wgan-gp")
OPTIMIZERS = ("adam", "sgd")
REMEDIES = ("label_smoothing", "instance_noise", "minibatch_stddev", "packing",
            "spectral_norm", "r1", "gradient_penalty")

DEFAULTS = {
    "data": "ring", "loss": "non-saturating", "lr_d": 1e-3, "lr_g": 1e-3, "k": 1,
    "optimizer": "adam", "latent_dim": 2, "speed": 0, "batch_size": 256, "seed": 0,
    **{name: False for name in REMEDIES},
}
"""speed: steps per second (0: as fast as the machine goes); k: D steps per G step."""

RESTART_KEYS = frozenset({"latent_dim", "minibatch_stddev", "packing", "spectral_norm",
                          "batch_size", "seed"})

LABEL_SMOOTHING = 0.9     # the real label with one-sided label smoothing on
INSTANCE_NOISE = 0.1      # the instance noise's std, times the data's half-width
R1_GAMMA = 1.0            # gamma of the R1 penalty gamma/2 E||grad_x D(x_real)||^2
PACK = 2                  # PacGAN's m when packing is on
MAX_LR = 10.0
MAX_K = 10
MAX_SPEED = 1000
MAX_BATCH = 4096


def _choice(key, value, choices):
    if value not in choices:
        raise ConfigError(f"{key}: expected one of {', '.join(map(str, choices))}, "
                          f"got {value!r}")
    return value


def _integer(key, value, lo, hi):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ConfigError(f"{key}: expected an integer in [{lo}, {hi}], got {value!r}")
    return value


def _rate(key, value):
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or not math.isfinite(value) or not 0 < value <= MAX_LR):
        raise ConfigError(f"{key}: expected a learning rate in (0, {MAX_LR}], got {value!r}")
    return float(value)


def _switch(key, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


CHECKS = {
    "data": lambda k, v: _choice(k, v, NAMES),
    "loss": lambda k, v: _choice(k, v, LOSSES),
    "optimizer": lambda k, v: _choice(k, v, OPTIMIZERS),
    "latent_dim": lambda k, v: _choice(k, v, (1, 2)),
    "lr_d": _rate, "lr_g": _rate,
    "k": lambda k, v: _integer(k, v, 1, MAX_K),
    "speed": lambda k, v: _integer(k, v, 0, MAX_SPEED),
    "batch_size": lambda k, v: _integer(k, v, 8, MAX_BATCH),
    "seed": lambda k, v: _integer(k, v, 0, 2**31 - 1),
    **{name: _switch for name in REMEDIES},
}


def validate(current, changes):
    """The settings ``current`` with ``changes`` applied, every value checked; raises
    ConfigError for an unknown key, a bad value or a combination that cannot train.

    The loss and the gradient penalty are one choice seen two ways: "wgan-gp" is the WGAN
    critic with the penalty, so choosing loss "wgan-gp" switches gradient_penalty on and
    "wgan" switches it off, and toggling gradient_penalty moves between the two."""
    if not isinstance(changes, dict):
        raise ConfigError(f"settings: expected a JSON object of settings, got "
                          f"{type(changes).__name__}")
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"settings: unknown setting {unknown[0]!r}; expected one of "
                          f"{', '.join(DEFAULTS)}")
    new = dict(current)
    for key, value in changes.items():
        new[key] = CHECKS[key](key, value)
    if "loss" in changes:
        new["gradient_penalty"] = new["loss"] == "wgan-gp"
    elif "gradient_penalty" in changes:
        if new["loss"] not in ("wgan", "wgan-gp"):
            raise ConfigError(f"gradient_penalty: WGAN-GP's penalty is for the WGAN critic "
                              f"(loss wgan or wgan-gp), got loss {new['loss']!r}; with the "
                              "other losses use r1, the penalty on real data")
        new["loss"] = "wgan-gp" if new["gradient_penalty"] else "wgan"
    if new["r1"] and new["loss"] not in ("non-saturating", "minimax"):
        raise ConfigError(f"r1: the R1 penalty is for the BCE losses (non-saturating, "
                          f"minimax), got loss {new['loss']!r}")
    penalty = new["r1"] or new["loss"] == "wgan-gp"
    if penalty and new["minibatch_stddev"]:
        raise ConfigError("minibatch_stddev: a gradient penalty (r1, wgan-gp) needs a D that "
                          "scores each sample alone; switch the penalty off first")
    if new["packing"] and new["batch_size"] % PACK:
        raise ConfigError(f"packing: the batch size must be a multiple of {PACK}, got "
                          f"{new['batch_size']}")
    return new


def needs_restart(current, new):
    """The keys whose change needs new networks (empty: continue from the weights)."""
    return sorted(key for key in RESTART_KEYS if current[key] != new[key])
