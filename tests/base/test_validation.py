"""Every public entry point validates what it is given: dtype (float32/float64 only),
shape, NaN/Inf, empty batches, hyperparameters. Each bad input raises a minigan error
whose message names the layer or function, what it expected and what came.

Finiteness is checked once per user-level call: ``layer(x)`` checks, ``layer.forward(x)``
(the path containers and the Trainer use) does not."""

import math

import numpy as np
import pytest

import minigan as mg
import minigan.nn.module as module
import minigan.validate as checks
from minigan.data import Batches
from minigan.errors import ConfigError, DTypeError, NonFiniteError, ShapeError
from minigan.gan import Trainer, get_objective
from minigan.gan.model_names import build_models
from minigan.gan.models import (
    conditional_discriminator,
    conditional_generator,
    dcgan_discriminator,
    dcgan_generator,
    mlp_discriminator,
    mlp_generator,
)
from minigan.losses import BCEWithLogits, CrossEntropy
from minigan.nn import (
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    Dense,
    Flatten,
    LeakyReLU,
    ReLU,
    Reshape,
    Tanh,
)
from minigan.optim import SGD, Adam


def zeros(*shape, dtype="float32"):
    return np.zeros(shape, dtype=dtype)


def with_bad(*shape, nan=1, inf=0, dtype="float32"):
    """Zeros of ``shape`` holding ``nan`` NaNs then ``inf`` infinities (flat order)."""
    x = np.zeros(shape, dtype=dtype)
    x.reshape(-1)[:nan] = np.nan
    x.reshape(-1)[nan:nan + inf] = np.inf
    return x


def param():
    return mg.nn.Parameter(np.ones(3))


def small_models(conditional=False):
    """A float64 MLP GAN on 8x8 images (conditional: 3 classes)."""
    rng = mg.backend.default_rng(0)
    if conditional:
        return (conditional_generator(4, 3, hidden=(8,), image_shape=(8, 8, 1),
                                      dtype="float64", rng=rng),
                conditional_discriminator(3, image_shape=(8, 8, 1), hidden=(8,),
                                          dtype="float64", rng=rng))
    return (mlp_generator(4, hidden=(8,), image_shape=(8, 8, 1), dtype="float64", rng=rng),
            mlp_discriminator(image_shape=(8, 8, 1), hidden=(8,), dtype="float64", rng=rng))


def trainer(conditional=False, **options):
    return Trainer(*small_models(conditional), **options)


def real(*shape, dtype="float64"):
    return np.zeros(shape or (4, 8, 8, 1), dtype=dtype)


def step(batch, labels=None, conditional=False):
    return trainer(conditional).step(batch, labels)


CONV = r"Conv2d\(1, 2, kernel_size=\(3, 3\)"
D_SEQ = r"^Sequential\(7 layers\)"

CASES = [
    # -- layers: dtype ---------------------------------------------------------------------
    ("conv-float16", lambda: Conv2d(1, 2, 3)(zeros(1, 5, 5, 1, dtype="float16")), DTypeError,
     CONV + r".*expected a floating-point input \(float32 or float64\) \(N, H, W, C\) NHWC, "
            r"got dtype float16, which minigan does not support"),
    ("conv-uint8-image", lambda: Conv2d(1, 2, 3)(zeros(1, 5, 5, 1, dtype="uint8")), DTypeError,
     CONV + r".*float32 or float64.*got dtype uint8 \(uint8 pixels: use "
            r"minigan.data.to_unit_range"),
    ("dense-int64", lambda: Dense(3, 2)(zeros(2, 3, dtype="int64")), DTypeError,
     r"Dense\(3, 2, bias=True\): expected a floating-point input .*\(N, in_features\), "
     r"got dtype int64"),
    ("dense-object", lambda: Dense(3, 2)(np.array([[1.0, None, 2.0]], dtype=object)),
     DTypeError, r"Dense\(3, 2.*float32 or float64.*got dtype object \(convert to a float32"),
    ("relu-bool", lambda: ReLU()(zeros(2, 3, dtype=bool)), DTypeError,
     r"ReLU\(\): expected a floating-point input .*got dtype bool"),
    ("tanh-complex", lambda: Tanh()(zeros(2, 3, dtype="complex128")), DTypeError,
     r"Tanh\(\): expected a floating-point input .*got dtype complex128"),
    ("batchnorm-float16", lambda: BatchNorm2d(2)(zeros(2, 3, 3, 2, dtype="float16")),
     DTypeError, r"BatchNorm2d\(2, .*float32 or float64.*got dtype float16"),
    ("network-float16", lambda: dcgan_discriminator()(zeros(2, 28, 28, 1, dtype="float16")),
     DTypeError, r"^Sequential\[0\]: Conv2d\(1, 64.*got dtype float16"),
    ("dense-float32-into-float64", lambda: Dense(3, 2, dtype="float64")(zeros(2, 3)),
     DTypeError, r"Dense\(3, 2.*input dtype float32 does not match the layer's parameter "
                 r"dtype float64"),
    # -- layers: dimensions, channels, empty batches ----------------------------------------
    ("convT-3d", lambda: ConvTranspose2d(2, 1, 3)(zeros(1, 3, 3)), ShapeError,
     r"ConvTranspose2d\(2, 1.*expected a 4-d input \(N, H, W, C\) NHWC, got shape \(1, 3, 3\)"),
    ("convT-channels", lambda: ConvTranspose2d(2, 1, 3)(zeros(1, 3, 3, 3)), ShapeError,
     r"ConvTranspose2d\(2, 1.*expected 2 channels/features in the last axis .*"
     r"got shape \(1, 3, 3, 3\)"),
    ("batchnorm1d-4d", lambda: BatchNorm1d(3)(zeros(2, 1, 1, 3)), ShapeError,
     r"BatchNorm1d\(3, .*expected a 2-d input \(N, C\), got shape \(2, 1, 1, 3\)"),
    ("batchnorm-one-value", lambda: BatchNorm2d(3)(zeros(1, 1, 1, 3)), ShapeError,
     r"BatchNorm2d\(3, .*needs more than one value per channel.*got input shape \(1, 1, 1, 3\)"),
    ("flatten-empty", lambda: Flatten()(zeros(0, 3)), ShapeError,
     r"Flatten\(\): got an empty batch, shape \(0, 3\); expected at least one sample"),
    ("network-empty", lambda: dcgan_discriminator()(zeros(0, 28, 28, 1)), ShapeError,
     r"^Sequential\[0\]: Conv2d\(1, 64.*empty batch, shape \(0, 28, 28, 1\)"),
    ("network-scalar", lambda: Dense(3, 2)(np.float32(1.0)), DTypeError,
     r"Dense\(3, 2.*expected a numpy array \(N, in_features\), got numpy.float32"),
    # -- layers and networks: NaN / Inf (checked by __call__) -------------------------------
    ("conv-nan", lambda: Conv2d(1, 2, 3)(with_bad(1, 5, 5, 1)), NonFiniteError,
     CONV + r".*\): found 1 NaN and 0 infinite values in the input \(shape \(1, 5, 5, 1\)\); "
            r"expected finite numbers"),
    ("dense-inf", lambda: Dense(3, 2)(with_bad(2, 3, nan=0, inf=2)), NonFiniteError,
     r"Dense\(3, 2, bias=True\): found 0 NaN and 2 infinite values in the input "
     r"\(shape \(2, 3\)\)"),
    ("discriminator-nan-inf", lambda: dcgan_discriminator()(with_bad(2, 28, 28, 1, nan=2, inf=1)),
     NonFiniteError, D_SEQ + r": found 2 NaN and 1 infinite values in the input "
                             r"\(shape \(2, 28, 28, 1\)\); expected finite numbers"),
    ("generator-nan-z", lambda: dcgan_generator(8)(with_bad(2, 8)), NonFiniteError,
     r"^Sequential\(7 layers\): found 1 NaN .* in the input \(shape \(2, 8\)\)"),
    ("conditional-nan", lambda: small_models(True)[1](with_bad(2, 8, 8, 1, dtype="float64"),
                                                      np.array([0, 1])),
     NonFiniteError, r"LabelConditioned\(num_classes=3, input_shape=\(8, 8, 1\)\): found 1 NaN "
                     r"and 0 infinite values in the input"),
    ("conditional-float-labels", lambda: small_models(True)[1](real(2, 8, 8, 1),
                                                               np.array([0.0, 1.0])),
     DTypeError, r"LabelConditioned\(num_classes=3.*labels must be integers \(class indices\), "
                 r"got dtype float64"),
    # -- layer constructors -----------------------------------------------------------------
    ("convT-stride-0", lambda: ConvTranspose2d(1, 2, 3, stride=0), ConfigError,
     r"ConvTranspose2d: stride must be >= 1, got 0"),
    ("convT-kernel-0-width", lambda: ConvTranspose2d(1, 2, (3, 0)), ConfigError,
     r"ConvTranspose2d: kernel_size must be >= 1, got \(3, 0\)"),
    ("convT-output-padding-negative", lambda: ConvTranspose2d(1, 2, 3, output_padding=-1),
     ConfigError, r"ConvTranspose2d: output_padding must be >= 0, got -1"),
    ("convT-out-channels-0", lambda: ConvTranspose2d(1, 0, 3), ConfigError,
     r"ConvTranspose2d: out_channels must be a positive int, got 0"),
    ("conv-kernel-bool", lambda: Conv2d(1, 2, True), ConfigError,
     r"Conv2d: kernel_size must be an int or a pair of ints, got True"),
    ("conv-padding-valid", lambda: Conv2d(1, 2, 3, padding="valid"), ConfigError,
     r"Conv2d: padding must be an int or a pair of ints, got 'valid'"),
    ("conv-stride-triple", lambda: Conv2d(1, 2, 3, stride=(1, 1, 1)), ConfigError,
     r"Conv2d: stride must be an int or a pair of ints, got \(1, 1, 1\)"),
    ("conv-dtype-int32", lambda: Conv2d(1, 2, 3, dtype="int32"), DTypeError,
     r"Conv2d: dtype must be float32 or float64, got int32"),
    ("dense-out-features-0", lambda: Dense(3, 0), ConfigError,
     r"Dense: out_features must be a positive int, got 0"),
    ("dense-dtype-float16", lambda: Dense(3, 2, dtype="float16"), DTypeError,
     r"Dense: dtype must be float32 or float64, got float16"),
    ("dense-dtype-unknown", lambda: Dense(3, 2, dtype="single-ish"), DTypeError,
     r"Dense: dtype must be float32 or float64, got 'single-ish'"),
    ("batchnorm-num-features-0", lambda: BatchNorm1d(0), ConfigError,
     r"BatchNorm1d: num_features must be a positive int, got 0"),
    ("batchnorm-eps-negative", lambda: BatchNorm2d(4, eps=-1e-5), ConfigError,
     r"BatchNorm2d: eps must be > 0, got -1e-05"),
    ("batchnorm-eps-nan", lambda: BatchNorm2d(4, eps=math.nan), ConfigError,
     r"BatchNorm2d: eps must be a finite number, got nan"),
    ("batchnorm-momentum-negative", lambda: BatchNorm1d(4, momentum=-0.1), ConfigError,
     r"BatchNorm1d: momentum must be in \[0, 1\], got -0.1"),
    ("batchnorm-momentum-string", lambda: BatchNorm1d(4, momentum="0.1"), ConfigError,
     r"BatchNorm1d: momentum must be a finite number, got '0.1'"),
    ("batchnorm-dtype-float16", lambda: BatchNorm2d(4, dtype="float16"), DTypeError,
     r"BatchNorm2d: dtype must be float32 or float64, got float16"),
    ("leaky-slope-bool", lambda: LeakyReLU(True), ConfigError,
     r"LeakyReLU: negative_slope must be a finite number, got True"),
    ("leaky-slope-inf", lambda: LeakyReLU(math.inf), ConfigError,
     r"LeakyReLU: negative_slope must be a finite number, got inf"),
    ("reshape-bool", lambda: Reshape(7, True), ConfigError,
     r"Reshape: shape must be positive ints \(batch axis excluded\), got \(7, True\)"),
    # -- losses -----------------------------------------------------------------------------
    ("bce-logits-nan", lambda: BCEWithLogits()(with_bad(4, 1), 1.0), NonFiniteError,
     r"BCEWithLogits: found 1 NaN and 0 infinite values in logits \(shape \(4, 1\)\); "
     r"expected finite numbers"),
    ("bce-logits-inf", lambda: BCEWithLogits()(with_bad(4, 1, nan=0, inf=1), 1.0),
     NonFiniteError, r"BCEWithLogits: found 0 NaN and 1 infinite values in logits"),
    ("bce-targets-nan-array", lambda: BCEWithLogits()(zeros(4, 1), with_bad(4, 1)),
     NonFiniteError, r"BCEWithLogits: found 1 NaN and 0 infinite values in targets "
                     r"\(shape \(4, 1\)\); expected finite numbers in \[0, 1\]"),
    ("bce-target-nan-number", lambda: BCEWithLogits()(zeros(4, 1), math.nan), NonFiniteError,
     r"BCEWithLogits: found 4 NaN and 0 infinite values in targets .*in \[0, 1\]"),
    ("bce-target-inf-number", lambda: BCEWithLogits()(zeros(4, 1), math.inf), NonFiniteError,
     r"BCEWithLogits: found 0 NaN and 4 infinite values in targets"),
    ("bce-target-bool", lambda: BCEWithLogits()(zeros(4, 1), True), DTypeError,
     r"BCEWithLogits: targets must be a number or a real numpy array, got bool"),
    ("bce-targets-complex", lambda: BCEWithLogits()(zeros(4, 1), zeros(4, 1, dtype=complex)),
     DTypeError, r"BCEWithLogits: targets must be a number or a real numpy array, "
                 r"got ndarray complex128"),
    ("bce-targets-object", lambda: BCEWithLogits()(zeros(2, 1), np.array([[1], [0]], object)),
     DTypeError, r"BCEWithLogits: targets must be .* got ndarray object"),
    ("bce-logits-float16", lambda: BCEWithLogits()(zeros(4, 1, dtype="float16"), 1.0),
     DTypeError, r"BCEWithLogits: logits must be float32 or float64, got dtype float16, "
                 r"which minigan does not support"),
    ("bce-logits-int", lambda: BCEWithLogits()(zeros(4, 1, dtype="int64"), 1.0), DTypeError,
     r"BCEWithLogits: logits must be a floating numpy array \(float32 or float64\), "
     r"got ndarray int64"),
    ("bce-logits-list", lambda: BCEWithLogits()([[0.0]], 1.0), DTypeError,
     r"BCEWithLogits: logits must be a floating numpy array .*got list"),
    ("bce-empty", lambda: BCEWithLogits()(zeros(0, 1), 1.0), ShapeError,
     r"BCEWithLogits: logits is empty, shape \(0, 1\); expected at least one element"),
    ("bce-target-above-one", lambda: BCEWithLogits()(zeros(4, 1), 1.5), ConfigError,
     r"BCEWithLogits: targets must lie in \[0, 1\], got values in \[1.5, 1.5\]"),
    ("ce-logits-inf", lambda: CrossEntropy()(with_bad(2, 3, nan=0, inf=1), np.array([0, 1])),
     NonFiniteError, r"CrossEntropy: found 0 NaN and 1 infinite values in logits "
                     r"\(shape \(2, 3\)\)"),
    ("ce-logits-nan", lambda: CrossEntropy()(with_bad(2, 3), np.array([0, 1])), NonFiniteError,
     r"CrossEntropy: found 1 NaN and 0 infinite values in logits"),
    ("ce-logits-float16", lambda: CrossEntropy()(zeros(2, 3, dtype="float16"), np.array([0, 1])),
     DTypeError, r"CrossEntropy: logits must be float32 or float64 \(N, K\), got dtype float16"),
    ("ce-labels-bool", lambda: CrossEntropy()(zeros(2, 3), np.array([True, False])),
     DTypeError, r"CrossEntropy: labels must be an integer numpy array \(N,\) of class "
                 r"indices, got ndarray bool"),
    ("ce-labels-shape", lambda: CrossEntropy()(zeros(2, 3), np.array([[0], [1]])), ShapeError,
     r"CrossEntropy: labels shape \(2, 1\) does not match logits shape \(2, 3\); "
     r"expected \(2,\)"),
    # -- optimizers -------------------------------------------------------------------------
    ("adam-lr-nan", lambda: Adam([param()], lr=math.nan), ConfigError,
     r"Adam: lr must be a finite number, got nan"),
    ("adam-beta1-one", lambda: Adam([param()], betas=(1.0, 0.999)), ConfigError,
     r"Adam: betas\[0\] must be < 1.0, got 1.0"),
    ("adam-betas-not-pair", lambda: Adam([param()], betas=0.5), ConfigError,
     r"Adam: betas must be a pair \(beta1, beta2\), got 0.5"),
    ("adam-eps-negative", lambda: Adam([param()], eps=-1e-8), ConfigError,
     r"Adam: eps must be >= 0.0, got -1e-08"),
    ("adam-weight-decay-negative", lambda: Adam([param()], weight_decay=-0.1), ConfigError,
     r"Adam: weight_decay must be >= 0.0, got -0.1"),
    ("adam-a-module", lambda: Adam(Dense(3, 2)), ConfigError,
     r"Adam: params must be a list of Parameters \(use model.parameters\(\)\), got Dense"),
    ("sgd-lr-negative", lambda: SGD([param()], lr=-0.01), ConfigError,
     r"SGD: lr must be >= 0.0, got -0.01"),
    ("sgd-lr-bool", lambda: SGD([param()], lr=True), ConfigError,
     r"SGD: lr must be a finite number, got True"),
    ("sgd-momentum-inf", lambda: SGD([param()], momentum=math.inf), ConfigError,
     r"SGD: momentum must be a finite number, got inf"),
    ("sgd-weight-decay-negative", lambda: SGD([param()], weight_decay=-1), ConfigError,
     r"SGD: weight_decay must be >= 0.0, got -1"),
    # -- model builders ---------------------------------------------------------------------
    ("dcgan-latent-float", lambda: dcgan_generator(2.5), ConfigError,
     r"dcgan_generator: latent_dim must be a positive int, got 2.5"),
    ("dcgan-latent-negative", lambda: dcgan_generator(-1), ConfigError,
     r"dcgan_generator: latent_dim must be a positive int, got -1"),
    ("dcgan-d-dtype-float16", lambda: dcgan_discriminator(dtype="float16"), DTypeError,
     r"dcgan_discriminator: dtype must be float32 or float64, got float16"),
    ("dcgan-g-dtype-int", lambda: dcgan_generator(dtype="int64"), DTypeError,
     r"dcgan_generator: dtype must be float32 or float64, got int64"),
    ("mlp-g-latent-0", lambda: mlp_generator(0), ConfigError,
     r"mlp_generator: latent_dim must be a positive int, got 0"),
    ("mlp-d-dtype-float16", lambda: mlp_discriminator(dtype="float16"), DTypeError,
     r"mlp_discriminator: dtype must be float32 or float64, got float16"),
    ("conditional-g-latent-bool", lambda: conditional_generator(False), ConfigError,
     r"conditional_generator: latent_dim must be a positive int, got False"),
    ("build-models-latent-0", lambda: build_models("mlp", 0), ConfigError,
     r"mlp_generator: latent_dim must be a positive int, got 0"),
    # -- objectives -------------------------------------------------------------------------
    ("objective-unknown", lambda: get_objective("wasserstein"), ConfigError,
     r"get_objective: unknown GAN objective 'wasserstein': expected one of 'non-saturating'"),
    ("objective-not-a-name", lambda: get_objective(3), ConfigError,
     r"get_objective: unknown GAN objective 3: expected one of"),
    ("objective-unknown-option", lambda: get_objective("lsgan", clip_value=0.1), ConfigError,
     r"get_objective: objective 'lsgan' takes no option\(s\) \['clip_value'\]; it accepts "
     r"\['generator_target'\]"),
    ("objective-wgan-clip-0", lambda: get_objective("wgan", clip_value=0), ConfigError,
     r"WGAN: clip_value must be a positive finite number, got 0"),
    ("objective-label-nan", lambda: get_objective("minimax").d_real(zeros(2, 1), math.nan),
     ConfigError, r"Minimax\(\): real_label must be a finite number, got nan"),
    # -- Trainer constructor ----------------------------------------------------------------
    ("trainer-G-not-module", lambda: Trainer("G", small_models()[1]), ConfigError,
     r"Trainer: G must be a minigan Module, got str"),
    ("trainer-conditional-mismatch",
     lambda: Trainer(small_models(True)[0], small_models()[1]), ConfigError,
     r"Trainer: G and D must both be conditional \(LabelConditioned\) or neither, got G "
     r"LabelConditioned and D Sequential"),
    ("trainer-unknown-loss", lambda: trainer(loss="wasserstein"), ConfigError,
     r"Trainer: loss='wasserstein': get_objective: unknown GAN objective 'wasserstein': "
     r"expected one of"),
    ("trainer-lr-d-negative", lambda: trainer(lr_d=-2e-4), ConfigError,
     r"Trainer: lr_d must be >= 0, got -0.0002"),
    ("trainer-lr-g-nan", lambda: trainer(lr_g=math.nan), ConfigError,
     r"Trainer: lr_g must be a finite number, got nan"),
    ("trainer-beta2-one", lambda: trainer(betas=(0.5, 1.0)), ConfigError,
     r"Trainer: betas\[1\] must be < 1, got 1.0"),
    ("trainer-beta1-negative", lambda: trainer(betas=(-0.5, 0.999)), ConfigError,
     r"Trainer: betas\[0\] must be >= 0, got -0.5"),
    ("trainer-betas-triple", lambda: trainer(betas=(0.5, 0.9, 0.99)), ConfigError,
     r"Trainer: betas must be a pair \(beta1, beta2\), got \(0.5, 0.9, 0.99\)"),
    ("trainer-real-label-above-one", lambda: trainer(real_label=1.5), ConfigError,
     r"Trainer: real_label must be <= 1, got 1.5"),
    ("trainer-real-label-bool", lambda: trainer(real_label=True), ConfigError,
     r"Trainer: real_label must be a finite number, got True"),
    ("trainer-fake-label-negative", lambda: trainer(fake_label=-0.1), ConfigError,
     r"Trainer: fake_label must be >= 0, got -0.1"),
    ("trainer-d-steps-0", lambda: trainer(d_steps=0), ConfigError,
     r"Trainer: d_steps must be a positive int, got 0"),
    ("trainer-d-steps-float", lambda: trainer(d_steps=2.0), ConfigError,
     r"Trainer: d_steps must be a positive int, got 2.0"),
    ("trainer-seed-string", lambda: trainer(seed="zero"), ConfigError,
     r"Trainer: seed must be an int, got 'zero'"),
    ("trainer-latent-dim-0", lambda: trainer(latent_dim=0), ConfigError,
     r"Trainer: latent_dim must be a positive int, got 0"),
    ("trainer-instance-noise-negative", lambda: trainer(instance_noise=-0.1), ConfigError,
     r"Trainer: instance_noise must be >= 0, got -0.1"),
    ("trainer-instance-noise-steps-0", lambda: trainer(instance_noise_steps=0), ConfigError,
     r"Trainer: instance_noise_steps must be a positive int, got 0"),
    ("trainer-feature-matching-out-of-range", lambda: trainer(feature_matching=4), ConfigError,
     r"Trainer: feature_matching must be a layer index of D, an int in \[0, 3\], got 4"),
    ("trainer-feature-matching-negative", lambda: trainer(feature_matching=-1), ConfigError,
     r"Trainer: feature_matching must be a layer index of D, .*got -1"),
    ("trainer-feature-matching-float", lambda: trainer(feature_matching=1.0), ConfigError,
     r"Trainer: feature_matching must be a layer index of D, .*got 1.0"),
    ("trainer-feature-matching-conditional",
     lambda: trainer(conditional=True, feature_matching=1), ConfigError,
     r"Trainer: feature_matching needs a Sequential discriminator, got LabelConditioned"),
    ("trainer-replay-size-negative", lambda: trainer(replay_size=-8), ConfigError,
     r"Trainer: replay_size must be an int >= 0 \(0: no replay\), got -8"),
    ("trainer-replay-fraction-above-one", lambda: trainer(replay_size=8, replay_fraction=1.5),
     ConfigError, r"Trainer: replay_fraction must be <= 1, got 1.5"),
    ("trainer-historical-averaging-negative", lambda: trainer(historical_averaging=-1.0),
     ConfigError, r"Trainer: historical_averaging must be >= 0, got -1.0"),
    # -- Trainer.step and Trainer.sample ----------------------------------------------------
    ("step-uint8", lambda: step(real(dtype="uint8")), DTypeError,
     r"Trainer.step: real must be a floating numpy array \(N, H, W, C\) NHWC \(float32 or "
     r"float64\), got ndarray uint8"),
    ("step-float16", lambda: step(real(dtype="float16")), DTypeError,
     r"Trainer.step: real must be float32 or float64 \(N, H, W, C\) NHWC, got dtype float16"),
    ("step-list", lambda: step([[0.0]]), DTypeError,
     r"Trainer.step: real must be a floating numpy array .*got list"),
    ("step-3d", lambda: step(real(4, 8, 8)), ShapeError,
     r"Trainer.step: real must be a 4-d batch of images \(N, H, W, C\) NHWC or a 2-d batch "
     r"of vectors \(N, F\), got shape \(4, 8, 8\)"),
    ("step-empty", lambda: step(real(0, 8, 8, 1)), ShapeError,
     r"Trainer.step: real is empty, shape \(0, 8, 8, 1\); expected at least one element"),
    ("step-nan", lambda: step(with_bad(4, 8, 8, 1, nan=3, dtype="float64")), NonFiniteError,
     r"Trainer.step: found 3 NaN and 0 infinite values in real \(shape \(4, 8, 8, 1\)\); "
     r"expected finite values \(pixels in \[-1, 1\]\)"),
    ("step-inf", lambda: step(with_bad(4, 8, 8, 1, nan=0, inf=1, dtype="float64")),
     NonFiniteError, r"Trainer.step: found 0 NaN and 1 infinite values in real"),
    ("step-labels-unconditional", lambda: step(real(), np.arange(4)), ConfigError,
     r"Trainer.step: labels were given but the models are not conditional"),
    ("step-labels-missing", lambda: step(real(), None, conditional=True), ConfigError,
     r"Trainer.step: the models are conditional and need labels \(4,\), got None"),
    ("step-labels-shape", lambda: step(real(), np.arange(3), conditional=True), ShapeError,
     r"Trainer.step: labels must have shape \(4,\) to match real \(4, 8, 8, 1\), got \(3,\)"),
    ("step-labels-float", lambda: step(real(), np.zeros(4), conditional=True), DTypeError,
     r"Trainer.step: labels must be integer class indices \(N,\), got dtype float64"),
    ("sample-n-0", lambda: trainer().sample(0), ConfigError,
     r"Trainer.sample: n must be a positive int, got 0"),
    ("sample-z-nan", lambda: trainer().sample(2, z=with_bad(2, 4, dtype="float64")),
     NonFiniteError, r"Trainer.sample: found 1 NaN and 0 infinite values in z \(shape \(2, 4\)\)"),
    # -- Batches ----------------------------------------------------------------------------
    ("batches-size-0", lambda: Batches(zeros(8, 4, 4, dtype="uint8"), batch_size=0),
     ConfigError, r"Batches: batch_size must be a positive integer, got 0"),
    ("batches-size-float", lambda: Batches(zeros(8, 4, 4, dtype="uint8"), batch_size=2.0),
     ConfigError, r"Batches: batch_size must be a positive integer, got 2.0"),
    ("batches-size-string", lambda: Batches(zeros(8, 4, 4, dtype="uint8"), batch_size="4"),
     ConfigError, r"Batches: batch_size must be a positive integer, got '4'"),
    ("batches-int64-images", lambda: Batches(zeros(8, 4, 4, dtype="int64"), batch_size=4),
     DTypeError, r"Batches: expected uint8 images \(N, H, W\[, C\]\) or float32/float64 NHWC, "
                 r"got int64 of shape \(8, 4, 4\)"),
    ("batches-float16-images", lambda: Batches(zeros(8, 4, 4, 1, dtype="float16"), batch_size=4),
     DTypeError, r"Batches: expected uint8 .* or float32/float64 NHWC, got float16"),
    ("batches-object-images", lambda: Batches(zeros(8, 4, 4, 1, dtype=object), batch_size=4),
     DTypeError, r"Batches: expected uint8 .* got object"),
    ("batches-float-3d", lambda: Batches(zeros(8, 4, 4), batch_size=4), DTypeError,
     r"Batches: expected .* float32/float64 NHWC, got float32 of shape \(8, 4, 4\)"),
    ("batches-nan-images", lambda: Batches(with_bad(8, 4, 4, 1, nan=2), batch_size=4),
     NonFiniteError, r"Batches: found 2 NaN and 0 infinite values in images "
                     r"\(shape \(8, 4, 4, 1\)\)"),
    ("batches-empty-keep-last", lambda: Batches(zeros(0, 4, 4, dtype="uint8"), batch_size=4,
                                                drop_last=False),
     ConfigError, r"Batches: 0 samples with batch_size 4 and drop_last=False give no batch"),
]


@pytest.mark.parametrize("call, error, message",
                         [pytest.param(*case[1:], id=case[0]) for case in CASES])
def test_bad_input_is_refused_with_a_message_naming_where_what_and_what_came(call, error,
                                                                                message):
    with pytest.raises(error, match=message):
        call()


def test_every_case_is_a_minigan_error_and_has_a_unique_id():
    assert len({case[0] for case in CASES}) == len(CASES)
    assert all(issubclass(case[2], mg.MiniganError) for case in CASES)


# -- finiteness: checked once per user-level call -----------------------------------------

def count_calls(monkeypatch, owner):
    """Count calls of ``owner.all_finite`` (the finiteness check) from now on."""
    calls = []
    original = owner.all_finite
    monkeypatch.setattr(owner, "all_finite", lambda x: calls.append(x.shape) or original(x))
    return calls


def test_a_network_checks_its_input_once_at_the_top(monkeypatch):
    D = dcgan_discriminator()
    calls = count_calls(monkeypatch, module)
    D(zeros(2, 28, 28, 1))
    assert calls == [(2, 28, 28, 1)]  # Sequential.__call__ only; its 7 layers run .forward


def test_a_nan_made_inside_a_network_is_not_reported_by_the_layers():
    D = dcgan_discriminator()
    D[2].weight.data[0, 0, 0, 0] = np.nan  # the second convolution
    out = D(zeros(2, 28, 28, 1) + 0.5)  # the input is finite: no error
    assert np.isnan(out).all()
    # the trainer's loss / gradient-norm checks catch such NaNs before any update:
    # tests/gan/test_trainer.py::test_a_non_finite_loss_stops_before_any_update


@pytest.mark.parametrize("layer, shape", [
    pytest.param(layer, shape, id=name) for name, layer, shape in [
        ("Dense", Dense(3, 2), (2, 3)), ("Conv2d", Conv2d(1, 2, 3), (2, 5, 5, 1)),
        ("ConvTranspose2d", ConvTranspose2d(1, 2, 3), (2, 3, 3, 1)),
        ("BatchNorm2d", BatchNorm2d(1), (2, 3, 3, 1)), ("LeakyReLU", LeakyReLU(), (2, 3)),
        ("Tanh", Tanh(), (2, 3)), ("Flatten", Flatten(), (2, 3, 1)),
        ("dcgan_discriminator", dcgan_discriminator(), (2, 28, 28, 1))]])
def test_forward_is_the_unchecked_fast_path(layer, shape):
    x = with_bad(*shape, nan=1, inf=1)
    with np.errstate(invalid="ignore"):
        layer.forward(x)  # no NonFiniteError
    with pytest.raises(NonFiniteError, match="found 1 NaN and 1 infinite values in the input"):
        layer(x)


def test_the_trainer_checks_the_real_batch_once_per_step(monkeypatch):
    t = trainer(d_steps=2, feature_matching=2)
    layer_calls = count_calls(monkeypatch, module)
    step_calls = count_calls(monkeypatch, checks)
    t.step(real() + 0.1)
    assert layer_calls == []  # G and D run through .forward
    assert step_calls == [(4, 8, 8, 1)]


def test_a_refused_batch_changes_nothing():
    t = trainer()
    before = [p.data.copy() for p in t.G.parameters() + t.D.parameters()]
    with pytest.raises(NonFiniteError):
        t.step(with_bad(4, 8, 8, 1, dtype="float64"))
    assert t.step_count == 0 and t.opt_d.t == 0 and t.opt_g.t == 0
    for a, p in zip(before, t.G.parameters() + t.D.parameters()):
        np.testing.assert_array_equal(a, p.data)


def test_the_finiteness_check_runs_on_the_strict_backend(array_backend):
    xp = array_backend
    x = xp.asarray(with_bad(2, 5, 5, 1, nan=2, inf=3))
    with pytest.raises(NonFiniteError, match=r"found 2 NaN and 3 infinite values in the input"):
        Conv2d(1, 2, 3)(x)
    with pytest.raises(NonFiniteError, match=r"BCEWithLogits: found 1 NaN .* in logits"):
        BCEWithLogits()(xp.asarray(with_bad(2, 1)), 1.0)
    Conv2d(1, 2, 3)(xp.asarray(zeros(2, 5, 5, 1)))  # finite input: fine
