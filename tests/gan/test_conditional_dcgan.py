"""The conditional DCGAN: the DCGAN generator on [z, onehot(y)] and a projection
discriminator (Miyato & Koyama 2018) on the DCGAN discriminator's features. The
projection's backward against finite differences (float64, random upstream gradient,
drawn shapes, batch 1 included, NumPy and strict; plain and spectrally normalised
embeddings), shapes, keys, labels that change the output, the MLP conditional
discriminator with the cures, a training step on the strict backend, and the errors.
PyTorch parity of the projection and of the whole 28x28 discriminator:
tests/parity/test_torch_parity_progressive.py."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan import nn
from minigan.errors import ConfigError, ShapeError, StateError
from minigan.gan import conditional_dcgan_discriminator, conditional_dcgan_generator
from minigan.gradcheck import check_module

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)


class FixedLabels(nn.Module):
    """A conditional module with its labels fixed, as a one-argument module for check_module."""

    def __init__(self, module, labels):
        super().__init__()
        self.module, self.labels = module, labels

    def forward(self, x):
        return self.module.forward(x, self.labels)

    def backward(self, gy, need_input_grad=True):
        return self.module.backward(gy, need_input_grad)


def small_projection(features, classes, spectral_norm, rng):
    """A projection D on 3x3 images: trunk Conv2d(1, 2, 2) -> Tanh -> Flatten (8 features,
    smooth, so finite differences see no kink), head Dense(8, 1), embed Dense(K, 8)."""
    f64 = {"dtype": "float64", "rng": rng}
    trunk = nn.Sequential(nn.Conv2d(1, features, 2, **f64), nn.Tanh(), nn.Flatten())
    head = nn.Dense(4 * features, 1, **f64)
    embed = nn.Dense(classes, 4 * features, bias=False, **f64)
    embed.weight.data[...] = rng.standard_normal(embed.weight.shape)
    if spectral_norm:
        embed = nn.SpectralNorm(embed, rng=rng).eval()  # u as stored: a fixed function
    return nn.ProjectionDiscriminator(trunk, head, embed)


@given(n=st.integers(1, 4), features=st.integers(1, 3), classes=st.integers(2, 4),
       spectral_norm=st.booleans(), seed=seeds)
def test_projection_matches_finite_differences(array_backend, n, features, classes,
                                               spectral_norm, seed):
    rng = mg.backend.default_rng(seed)
    D = small_projection(features, classes, spectral_norm, rng)
    labels = rng.integers(0, classes, size=n)
    x = mg.backend.default_rng(seed + 1).standard_normal((n, 3, 3, 1))
    errors = check_module(FixedLabels(D, labels), x)
    embed = "embed.layer.weight" if spectral_norm else "embed.weight"
    assert [e.name for e in errors] == ["input", "module.trunk.0.weight", "module.trunk.0.bias",
                                        "module.head.weight", "module.head.bias",
                                        f"module.{embed}"]
    for error in errors:
        assert error.within(TOLERANCE), error
    # only the requested classes' embeddings get a gradient
    grad = mg.backend.to_numpy((D.embed.layer if spectral_norm else D.embed).weight.grad)
    unused = sorted(set(range(classes)) - set(mg.backend.to_numpy(labels).tolist()))
    assert not grad[unused].any()


def test_the_projection_adds_the_class_embedding_s_inner_product():
    rng = mg.backend.default_rng(0)
    D = small_projection(2, 3, False, rng)
    x, labels = np.random.default_rng(1).standard_normal((4, 3, 3, 1)), np.array([0, 2, 2, 1])
    h = D.trunk(x)
    expected = D.head(h) + (D.embed.weight.data[labels] * h).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(D(x, labels), expected, rtol=1e-14)


def test_conditional_dcgan_shapes_keys_and_initialisation(array_backend):
    xp = array_backend
    rng = mg.backend.default_rng(0)
    G = conditional_dcgan_generator(latent_dim=8, num_classes=10, rng=rng)
    D = conditional_dcgan_discriminator(num_classes=10, rng=rng)
    assert (G.num_classes, D.num_classes, G.net[0].in_features) == (10, 10, 18)
    assert [type(layer).__name__ for layer in G.net] == [
        "Dense", "Reshape", "ConvTranspose2d", "BatchNorm2d", "ReLU", "ConvTranspose2d", "Tanh"]
    assert [type(layer).__name__ for layer in D.trunk] == [
        "Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU", "Flatten"]
    assert list(D.state_dict())[-3:] == ["head.weight", "head.bias", "embed.weight"]
    assert D.embed.weight.shape == (10, 6272) and D.embed.bias is None
    assert abs(float(D.embed.weight.data.std()) - 0.02) < 0.001  # DCGAN's N(0, 0.02^2)
    z, labels = rng.standard_normal((5, 8), dtype="float32"), xp.arange(5)
    images = G(z, labels)
    assert images.shape == (5, 28, 28, 1) and images.dtype == xp.float32
    scores = D(images, labels)
    assert scores.shape == (5, 1)
    assert D.backward(xp.ones((5, 1), dtype=xp.float32)).shape == images.shape


def test_labels_change_both_networks():
    rng = mg.backend.default_rng(0)
    G, D = conditional_dcgan_generator(rng=rng), conditional_dcgan_discriminator(rng=rng)
    G.eval()
    z = np.tile(rng.standard_normal((1, 100), dtype="float32"), (10, 1))
    images = G(z, np.arange(10))
    assert all(not np.allclose(images[0], images[k]) for k in range(1, 10))
    same = np.tile(images[:1], (10, 1, 1, 1))
    D.eval()
    assert len(set(np.round(D(same, np.arange(10)).ravel(), 6))) == 10


@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("minibatch_stddev", [False, True])
def test_the_mlp_conditional_discriminator_takes_the_cures(spectral_norm, minibatch_stddev):
    rng = mg.backend.default_rng(0)
    D = mg.gan.conditional_discriminator(3, (2, 2, 1), (5,), spectral_norm=spectral_norm,
                                         minibatch_stddev=minibatch_stddev, dtype="float64",
                                         rng=rng).eval()
    kinds = [type(layer).__name__ for layer in D.net]
    assert kinds.count("SpectralNorm") == 2 * spectral_norm
    assert kinds.count("MinibatchStdDev") == minibatch_stddev
    labels = np.array([0, 2, 1])
    x = np.random.default_rng(1).uniform(-1, 1, (3, 2, 2, 1))
    for error in check_module(FixedLabels(D, labels), x):
        assert error.within(TOLERANCE), error


def test_a_training_step_on_the_strict_backend(array_backend):
    xp = array_backend
    rng = mg.backend.default_rng(0)
    G = conditional_dcgan_generator(latent_dim=16, rng=rng)
    D = conditional_dcgan_discriminator(spectral_norm=True, minibatch_stddev=True, rng=rng)
    trainer = mg.gan.Trainer(G, D, seed=0)
    real = mg.backend.default_rng(1).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    before = mg.backend.to_numpy(D.embed.layer.weight.data).copy()
    stats = trainer.step(real, xp.arange(8) % 10)
    assert stats["step"] == 1 and np.isfinite(stats["loss_d"]) and np.isfinite(stats["loss_g"])
    assert not np.array_equal(before, mg.backend.to_numpy(D.embed.layer.weight.data))
    assert trainer.sample(4, labels=xp.arange(4)).shape == (4, 28, 28, 1)


def test_errors_name_the_discriminator():
    trunk, head = nn.Flatten(), nn.Dense(4, 1)
    with pytest.raises(ConfigError, match=r"ProjectionDiscriminator: embed must be a "
                                          r"Dense\(num_classes, F, bias=False\)"):
        nn.ProjectionDiscriminator(trunk, head, nn.Dense(3, 4))
    with pytest.raises(ConfigError, match="ProjectionDiscriminator: trunk must be a minigan "
                                          "Module, got function"):
        nn.ProjectionDiscriminator(lambda x: x, head, nn.Dense(3, 4, bias=False))
    D = nn.ProjectionDiscriminator(trunk, head, nn.Dense(3, 4, bias=False))
    x = np.ones((2, 2, 2, 1), dtype="float32")
    with pytest.raises(ConfigError, match=r"ProjectionDiscriminator\(num_classes=3, features=4\)"
                                          r": labels must lie in \[0, 3\), got values in "
                                          r"\[0, 3\]"):
        D(x, np.array([0, 3]))
    with pytest.raises(ShapeError, match=r"ProjectionDiscriminator.*: the trunk must give "
                                         r"features \(N, 4\), got \(2, 8\)"):
        D(np.ones((2, 2, 4, 1), dtype="float32"), np.array([0, 1]))
    with pytest.raises(StateError, match="without a preceding forward"):
        D.backward(np.ones((2, 1), dtype="float32"))
    D(x, np.array([0, 1]))
    with pytest.raises(ShapeError, match=r"expected a gradient of shape \(2, 1\)"):
        D.backward(np.ones((2, 2), dtype="float32"))
    with pytest.raises(ConfigError, match="conditional_dcgan_discriminator: num_classes must "
                                          "be an int >= 2"):
        conditional_dcgan_discriminator(num_classes=1)


def test_is_conditional_tells_the_models_that_take_labels():
    for model in ("conditional", "conditional-dcgan"):
        G, D = mg.gan.build_models(model, dtype="float64")
        assert mg.gan.is_conditional(G) and mg.gan.is_conditional(D)
    for model in ("dcgan", "mlp"):
        G, D = mg.gan.build_models(model, dtype="float64")
        assert not mg.gan.is_conditional(G) and not mg.gan.is_conditional(D)
