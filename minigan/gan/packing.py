"""PacGAN's packing (Lin, Khetan, Fanti, Oh, NeurIPS 2018): D judges m samples at once.

With ``Trainer(..., pack=m)`` the batch given to ``step`` holds m * B samples, and every
batch D sees -- real, fake, and the G step's fakes -- is *packed*: samples are grouped m at
a time, consecutively (samples i*m, ..., i*m + m - 1 form packed sample i), and each group
is concatenated along the last axis into one input of D::

    (m*B, F)          -> (B, m*F)             vectors: a group's m rows side by side
    (m*B, H, W, C)    -> (B, H, W, m*C)       images: stacked along the channels

The groups are all real or all fake (the real batch is packed as given; fakes are m*B
independent draws of G, packed the same way), so D sees B packed samples and its loss
is a mean over those B. Its input gradient is unpacked the inverse way before it reaches
G, which is unchanged and sees m*B samples. ``pack(x, 1)`` is ``x`` itself: m = 1 is the
unpacked GAN, the same computation.
"""

from .. import backend
from ..errors import ConfigError, ShapeError
from ..validate import is_int


def pack(x, m):
    """(m*B, ...) -> B packed samples: (B, m*F) for (m*B, F), (B, H, W, m*C) for NHWC."""
    if m == 1:
        return x
    n, rest = x.shape[0] // m, tuple(x.shape[1:])
    grouped = x.reshape((n, m) + rest)                          # (B, m, ..., C)
    if x.ndim > 2:
        grouped = backend.xp.moveaxis(grouped, 1, -2)           # (B, H, W, m, C)
    return grouped.reshape((n,) + rest[:-1] + (m * rest[-1],))


def unpack(g, m):
    """The inverse of ``pack``: a gradient w.r.t. B packed samples -> (m*B, ...)."""
    if m == 1:
        return g
    n, rest = g.shape[0], tuple(g.shape[1:])
    per_sample = rest[:-1] + (m, rest[-1] // m)
    grouped = g.reshape((n,) + per_sample)                      # (B, ..., m, C)
    if g.ndim > 2:
        grouped = backend.xp.moveaxis(grouped, -2, 1)           # (B, m, H, W, C)
    return grouped.reshape((n * m,) + rest[:-1] + (rest[-1] // m,))


def _first_input_width(D):
    """("features", in_features) or ("channels", in_channels) of D's first Dense/Maxout or
    Conv2d (depth first), or None when D starts with neither."""
    for module in D.modules():
        if hasattr(module, "in_features"):
            return "features", module.in_features
        if hasattr(module, "in_channels"):
            return "channels", module.in_channels
    return None


def check_pack(pack_size, G, D):
    """``pack`` of the Trainer: a positive int; m > 1 for unconditional models only, and a
    D whose input width is a multiple of m (PacGAN's D for 2-D data: 2*m inputs)."""
    if not is_int(pack_size) or isinstance(pack_size, bool) or pack_size < 1:
        raise ConfigError(f"Trainer: pack must be a positive int (samples per input of D; "
                          f"1: no packing), got {pack_size!r}")
    pack_size = int(pack_size)
    if pack_size > 1:
        if hasattr(G, "num_classes"):
            raise ConfigError("Trainer: pack > 1 is for unconditional models (a packed input "
                              "would hold m samples of different classes)")
        width = _first_input_width(D)
        if width is not None and width[1] % pack_size:
            raise ConfigError(f"Trainer: pack={pack_size} needs a D whose input width is a "
                              f"multiple of {pack_size} (m samples side by side), but its "
                              f"first layer takes {width[1]} {width[0]} (PacGAN's D for 2-D "
                              f"data: mg.gan.pacgan_discriminator(pack={pack_size}))")
    return pack_size


def check_packed_batch(real, pack_size, D):
    """The real batch given to ``step`` with packing: m*B samples (a multiple of m) whose
    packed width fits D's first layer. Raises before anything has run."""
    if pack_size == 1:
        return
    n = real.shape[0]
    if n % pack_size:
        raise ShapeError(f"Trainer.step: with pack={pack_size} the batch must hold a multiple "
                         f"of {pack_size} samples (m * B: B packed inputs for D), got {n}")
    width = _first_input_width(D)
    kind = "features" if real.ndim == 2 else "channels"
    if width is not None and width[0] == kind and width[1] != pack_size * real.shape[-1]:
        raise ShapeError(f"Trainer.step: with pack={pack_size}, D gets {pack_size} x "
                         f"{real.shape[-1]} = {pack_size * real.shape[-1]} {kind} per packed "
                         f"input, but its first layer takes {width[1]} (build D for "
                         f"{pack_size * real.shape[-1]} inputs, e.g. "
                         f"mg.gan.pacgan_discriminator(pack={pack_size}) for 2-D data)")
