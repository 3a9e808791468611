"""Progressive GAN networks for 28x28 images (Karras et al. 2018, "Progressive Growing of
GANs for Improved Quality, Stability, and Variation"), grown 7x7 -> 14x14 -> 28x28.

Both networks hold the layers of every resolution from the start and run the part that
belongs to their current ``stage`` (0: 7x7, 1: 14x14, 2: 28x28); ``grow(stage, alpha)``
moves them on. While stage s is faded in, the last block of the new resolution and the
image layer of the old one run side by side in a ``minigan.nn.Fade``:

    G:  h = base(z) -> blocks up to resolution s-1
        image = alpha * to_image_s(block_s(h))  +  (1 - alpha) * up(to_image_{s-1}(h))
                (block_s starts with the 2x nearest upsampling "up")
    D:  x at resolution s
        h = alpha * block_s(from_image_s(x))  +  (1 - alpha) * from_image_{s-1}(pool(x))
                (block_s ends with the 2x2 average pooling "pool")
        -> blocks down to 7x7 -> head -> one score

At alpha = 1 the old path is not run; a stage's stabilising phase is its new path alone.

The layers, at MNIST scale (one 3x3 convolution per block where ProGAN has two). A step
at 28x28 still costs about 2.4-2.5 times a DCGAN step on a CPU (batch 64,
benchmarks/bench_progressive_stages.py): G's last block convolves a 64-channel map at
28x28 and D's first a 16-channel one, at stride 1, while the DCGAN meets 28x28 only as
the one-channel image of its stride-2 (transposed) convolutions. A 7x7 step costs a fifth
of a DCGAN step, a 14x14 one 1.15 times::

    G  base        PixelNorm (of z), Dense(latent_dim, 7*7*128), Reshape(7, 7, 128),
                   LeakyReLU(0.2), PixelNorm                         z -> (N, 7, 7, 128)
       block_14    Upsample2d(2), Conv2d(128, 64, 3, padding=1), LeakyReLU(0.2), PixelNorm
       block_28    Upsample2d(2), Conv2d(64, 16, 3, padding=1), LeakyReLU(0.2), PixelNorm
       to_image_R  Conv2d(C_R, 1, 1), Tanh   (N, R, R, 1) in [-1, 1]; C_7, C_14, C_28 = 128, 64, 16
    D  from_image_R  Conv2d(1, C_R, 1), LeakyReLU(0.2)                C_28, C_14, C_7 = 16, 32, 64
       block_28    Conv2d(16, 32, 3, padding=1), LeakyReLU(0.2), AvgPool2d(2)     28 -> 14
       block_14    Conv2d(32, 64, 3, padding=1), LeakyReLU(0.2), AvgPool2d(2)     14 -> 7
       head        [MinibatchStdDev], Conv2d(64 (+1), 64, 3, padding=1), LeakyReLU(0.2),
                   Flatten, Dense(7*7*64, 1)                          -> raw scores (N, 1)

The to_image layers end in Tanh (as the DCGAN's generator does), so every stage's images
lie in [-1, 1], and so does their blend. Weights start with He's initialisation,
N(0, gain^2 / fan_in) (gain sqrt(2), 1 for the layers that make an image or a score),
biases 0. ``equalized_lr=True`` wraps every Dense and Conv2d in ``EqualizedLR`` instead:
the same initial function (the same N(0, 1) draws, scaled at run time), trained with
equalised learning rates. ``minibatch_stddev=True`` gives D's head the batch's standard
deviation as one more channel (Karras et al. §3).
"""

import math

from .. import backend
from ..errors import ConfigError, MiniganError, ShapeError
from ..nn import (
    AvgPool2d,
    Conv2d,
    Dense,
    EqualizedLR,
    Fade,
    Flatten,
    LeakyReLU,
    MinibatchStdDev,
    PixelNorm,
    Reshape,
    Sequential,
    Tanh,
    Upsample2d,
)
from ..nn.equalized_lr import fan_in
from ..nn.module import Module
from ..validate import (
    check_array,
    finite_number,
    float_dtype,
    is_int,
    positive_int,
    true_or_false,
)

RESOLUTIONS = (7, 14, 28)
"""The image sizes of the stages: 7x7 (stage 0), 14x14 (stage 1), 28x28 (stage 2)."""
G_CHANNELS = {7: 128, 14: 64, 28: 16}
D_CHANNELS = {28: 16, 14: 32, 7: 64}
LEAKY_SLOPE = 0.2
RELU_GAIN, LINEAR_GAIN = math.sqrt(2), 1.0


class _Growing(Module):
    """What both progressive networks share: the stage, alpha, and one network per stage
    (built from the registered layers; the per-stage containers are not registered, so
    every parameter appears once in ``parameters()`` and ``state_dict()``)."""

    def __init__(self):
        super().__init__()
        self._stage, self._alpha = 0, 1.0
        self._networks = []

    @property
    def stage(self):
        """0, 1, 2: the resolution the network works at now, RESOLUTIONS[stage]."""
        return self._stage

    @property
    def alpha(self):
        """How far the current stage's new block is faded in (1: fully; 1 at stage 0)."""
        return self._alpha

    @property
    def resolution(self):
        return RESOLUTIONS[self._stage]

    def grow(self, stage, alpha=1.0):
        """Work at ``stage`` (0 .. len(RESOLUTIONS) - 1) with the new block faded in by
        ``alpha`` in [0, 1] (stage 0 has no fade: alpha must be 1). Returns self."""
        name = type(self).__name__
        if not is_int(stage) or not 0 <= stage < len(RESOLUTIONS):
            raise ConfigError(f"{name}.grow: stage must be an int in [0, {len(RESOLUTIONS) - 1}] "
                              f"(resolutions {RESOLUTIONS}), got {stage!r}")
        alpha = finite_number(f"{name}.grow", "alpha", alpha, minimum=0, maximum=1)
        if stage == 0 and alpha != 1:
            raise ConfigError(f"{name}.grow: stage 0 has no fade, so alpha must be 1, got {alpha}")
        self._stage, self._alpha = int(stage), alpha
        if stage:
            self._fade(self._networks[stage]).alpha = alpha
        return self

    def network(self, stage=None):
        """The Sequential that runs at ``stage`` (default: the current one)."""
        return self._networks[self._stage if stage is None else stage]

    def forward(self, x):
        check_array(_Name(self._where()), x, None, self._layout())
        if tuple(x.shape[1:]) != self._input_shape():
            raise ShapeError(f"{self._where()}: expected an input {self._layout()} at this "
                             f"stage, got shape {tuple(x.shape)}")
        try:
            y = self._networks[self._stage].run_forward(x)
        except MiniganError as error:
            raise type(error)(f"{self._where()}: {error}") from None
        return self._remember(y, self._stage)  # the stage, not its network: a Module kept
        #                                        as an attribute would count as a child

    def backward(self, gy, need_input_grad=True):
        """Through the network that ran the last forward (its stage and alpha)."""
        stage = self._take_cache(gy)
        try:
            return self._networks[stage].run_backward(gy, need_input_grad)
        except MiniganError as error:
            raise type(error)(f"{self._where()}: {error}") from None

    def extra_repr(self):
        r = self.resolution
        return f"stage={self._stage} ({r}x{r}), alpha={self._alpha:g}"


class ProgressiveGenerator(_Growing):
    """G(z): noise (N, latent_dim) -> images (N, R, R, 1) in [-1, 1], R = RESOLUTIONS[stage].

    Layers and the fade: the module docstring. state_dict keys: "base.1.weight",
    "to_image_7.0.weight", "block_14.1.weight", ... ("….layer.weight" with equalised
    learning rates). Starts at stage 0 (7x7); ``grow(stage, alpha)`` moves it on.
    """

    def __init__(self, latent_dim=100, *, equalized_lr=False, dtype=None, rng=None):
        super().__init__()
        where = "ProgressiveGenerator"
        self.latent_dim = positive_int(where, "latent_dim", latent_dim)
        self.equalized_lr = true_or_false(where, "equalized_lr", equalized_lr)
        weighted = _WeightedLayers(equalized_lr, float_dtype(where, dtype), rng)
        c = G_CHANNELS
        self.base = Sequential(
            PixelNorm(), weighted.dense(latent_dim, 7 * 7 * c[7]), Reshape(7, 7, c[7]),
            LeakyReLU(LEAKY_SLOPE), PixelNorm())
        self.to_image_7 = Sequential(weighted.conv(c[7], 1, 1, LINEAR_GAIN), Tanh())
        for previous, r in zip(RESOLUTIONS, RESOLUTIONS[1:]):
            setattr(self, f"block_{r}", Sequential(
                Upsample2d(2), weighted.conv(c[previous], c[r], 3), LeakyReLU(LEAKY_SLOPE),
                PixelNorm()))
            setattr(self, f"to_image_{r}", Sequential(weighted.conv(c[r], 1, 1, LINEAR_GAIN),
                                                      Tanh()))
        self._networks = [self._build(stage) for stage in range(len(RESOLUTIONS))]

    def _build(self, stage):
        if stage == 0:
            return Sequential(self.base, self.to_image_7)
        old, new = RESOLUTIONS[stage - 1], RESOLUTIONS[stage]
        earlier = [getattr(self, f"block_{r}") for r in RESOLUTIONS[1:stage]]
        fade = Fade(old=Sequential(getattr(self, f"to_image_{old}"), Upsample2d(2)),
                    new=Sequential(getattr(self, f"block_{new}"),
                                   getattr(self, f"to_image_{new}")))
        return Sequential(self.base, *earlier, fade)

    @staticmethod
    def _fade(network):
        return network[-1]

    def _input_shape(self):
        return (self.latent_dim,)

    def _layout(self):
        return f"(N, {self.latent_dim})"

    def _where(self):
        return f"ProgressiveGenerator({self.extra_repr()})"


class ProgressiveDiscriminator(_Growing):
    """D(x): images (N, R, R, 1), R = RESOLUTIONS[stage] -> raw scores (N, 1).

    Layers and the fade: the module docstring. state_dict keys: "from_image_7.0.weight",
    "head.0.weight", "block_14.0.weight", ... Starts at stage 0 (7x7).
    """

    def __init__(self, *, minibatch_stddev=False, equalized_lr=False, dtype=None, rng=None):
        super().__init__()
        where = "ProgressiveDiscriminator"
        self.minibatch_stddev = true_or_false(where, "minibatch_stddev", minibatch_stddev)
        self.equalized_lr = true_or_false(where, "equalized_lr", equalized_lr)
        weighted = _WeightedLayers(equalized_lr, float_dtype(where, dtype), rng)
        c = D_CHANNELS
        self.from_image_7 = Sequential(weighted.conv(1, c[7], 1), LeakyReLU(LEAKY_SLOPE))
        self.head = Sequential(
            *([MinibatchStdDev()] if minibatch_stddev else []),
            weighted.conv(c[7] + minibatch_stddev, c[7], 3), LeakyReLU(LEAKY_SLOPE), Flatten(),
            weighted.dense(7 * 7 * c[7], 1, LINEAR_GAIN))
        for smaller, r in zip(RESOLUTIONS, RESOLUTIONS[1:]):
            setattr(self, f"from_image_{r}", Sequential(weighted.conv(1, c[r], 1),
                                                        LeakyReLU(LEAKY_SLOPE)))
            setattr(self, f"block_{r}", Sequential(
                weighted.conv(c[r], c[smaller], 3), LeakyReLU(LEAKY_SLOPE), AvgPool2d(2)))
        self._networks = [self._build(stage) for stage in range(len(RESOLUTIONS))]

    def _build(self, stage):
        if stage == 0:
            return Sequential(self.from_image_7, self.head)
        old, new = RESOLUTIONS[stage - 1], RESOLUTIONS[stage]
        later = [getattr(self, f"block_{r}") for r in reversed(RESOLUTIONS[1:stage])]
        fade = Fade(old=Sequential(AvgPool2d(2), getattr(self, f"from_image_{old}")),
                    new=Sequential(getattr(self, f"from_image_{new}"),
                                   getattr(self, f"block_{new}")))
        return Sequential(fade, *later, self.head)

    @staticmethod
    def _fade(network):
        return network[0]

    def _input_shape(self):
        return (self.resolution, self.resolution, 1)

    def _layout(self):
        return f"(N, {self.resolution}, {self.resolution}, 1) NHWC"

    def _where(self):
        return f"ProgressiveDiscriminator({self.extra_repr()})"


class _WeightedLayers:
    """Dense and Conv2d layers (3x3 convolutions padded to keep the size) with He's
    initialisation, or wrapped in EqualizedLR: the same N(0, 1) draws either way."""

    def __init__(self, equalized_lr, dtype, rng):
        self.equalized_lr, self.dtype = equalized_lr, dtype
        self.rng = backend.global_rng() if rng is None else rng

    def conv(self, c_in, c_out, kernel, gain=RELU_GAIN):
        return self._init(Conv2d(c_in, c_out, kernel, padding=kernel // 2, dtype=self.dtype,
                                 rng=self.rng), gain)

    def dense(self, n_in, n_out, gain=RELU_GAIN):
        return self._init(Dense(n_in, n_out, dtype=self.dtype, rng=self.rng), gain)

    def _init(self, layer, gain):
        if self.equalized_lr:
            return EqualizedLR(layer, gain, rng=self.rng)
        weight = layer.weight.data
        draws = self.rng.standard_normal(weight.shape, dtype=weight.dtype)
        backend.xp.copyto(weight, draws * (gain / math.sqrt(fan_in(layer))))
        return layer


class _Name(str):
    """A network's name for the shared checks' messages (they print ``repr(layer)``)."""

    __repr__ = str.__str__


