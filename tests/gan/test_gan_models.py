"""The ready-made GAN networks: architecture, shapes, parameter counts, initialisation,
the conditional (label-fed) models and their gradients, validation errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, DTypeError, ShapeError, StateError
from minigan.gan.models import (
    conditional_discriminator,
    conditional_generator,
    dcgan_discriminator,
    dcgan_generator,
    mlp_discriminator,
    mlp_generator,
)
from minigan.gradcheck import check_module, roundoff_floor
from minigan.nn.concat import LabelConditioned

nn = mg.nn

# Parameter counts, by hand (weights + biases; BatchNorm: gamma + beta):
#   G: Dense(100, 6272)                  100*6272 + 6272      = 633,472
#      ConvTranspose2d(128, 64, 5)       5*5*64*128 + 64      = 204,864
#      BatchNorm2d(64)                   64 + 64              =     128
#      ConvTranspose2d(64, 1, 5)         5*5*1*64 + 1         =   1,601
#                                                      total  = 840,065
#   D: Conv2d(1, 64, 5)                  5*5*1*64 + 64        =   1,664
#      Conv2d(64, 128, 5)                5*5*64*128 + 128     = 204,928
#      BatchNorm2d(128)                  128 + 128            =     256
#      Dense(6272, 1)                    6272 + 1             =   6,273
#                                                      total  = 213,121
G_PARAMETERS = 840_065
D_PARAMETERS = 213_121


def count(model):
    return sum(p.data.size for p in model.parameters())


def test_dcgan_layers_in_order():
    G, D = dcgan_generator(), dcgan_discriminator()
    assert [type(m) for m in G] == [nn.Dense, nn.Reshape, nn.ConvTranspose2d, nn.BatchNorm2d,
                                    nn.ReLU, nn.ConvTranspose2d, nn.Tanh]
    assert [type(m) for m in D] == [nn.Conv2d, nn.LeakyReLU, nn.Conv2d, nn.BatchNorm2d,
                                    nn.LeakyReLU, nn.Flatten, nn.Dense]
    assert (G[0].in_features, G[0].out_features, G[1].shape) == (100, 7 * 7 * 128, (7, 7, 128))
    for layer, channels in ((G[2], (128, 64)), (G[5], (64, 1))):
        assert (layer.in_channels, layer.out_channels) == channels
        assert (layer.kernel_size, layer.stride, layer.padding, layer.output_padding) == \
            ((5, 5), (2, 2), (2, 2), (1, 1))
    for layer, channels in ((D[0], (1, 64)), (D[2], (64, 128))):
        assert (layer.in_channels, layer.out_channels) == channels
        assert (layer.kernel_size, layer.stride, layer.padding) == ((5, 5), (2, 2), (2, 2))
    assert D[1].negative_slope == D[4].negative_slope == 0.2
    assert (G[3].num_features, D[3].num_features) == (64, 128)
    assert (D[6].in_features, D[6].out_features) == (7 * 7 * 128, 1)
    assert dcgan_generator(latent_dim=16)[0].in_features == 16


def test_dcgan_parameter_counts_and_state_dict_keys():
    G, D = dcgan_generator(), dcgan_discriminator()
    assert count(G) == G_PARAMETERS
    assert count(D) == D_PARAMETERS
    assert list(G.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias",
        "3.running_mean", "3.running_var", "5.weight", "5.bias"]
    assert list(D.state_dict())[:4] == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_dcgan_initialisation():
    G = dcgan_generator(rng=mg.backend.default_rng(1))
    D = dcgan_discriminator(rng=mg.backend.default_rng(2))
    for model in (G, D):
        for name, p in model.named_parameters():
            data = mg.backend.to_numpy(p.data).astype(np.float64)
            layer = model[int(name.split(".")[0])]
            if name.endswith("bias"):
                assert np.all(data == 0), name
            elif isinstance(layer, nn.BatchNorm2d):  # gamma ~ N(1, 0.02^2)
                assert abs(data.mean() - 1) < 0.01 and 0.01 < data.std() < 0.03, name
            elif data.size >= 1000:  # N(0, 0.02^2); the std of >= 1000 draws is within 10%
                assert abs(data.mean()) < 0.005 and abs(data.std() - 0.02) < 0.002, name
            else:
                assert np.all(np.abs(data) < 0.02 * 6), name


def test_dcgan_init_initialises_a_single_layer():
    layer = mg.gan.dcgan_init_(mg.nn.Dense(300, 200, dtype="float64"),
                               rng=mg.backend.default_rng(0))
    assert abs(float(layer.weight.data.std()) - 0.02) < 0.001
    assert not layer.bias.data.any()


def test_dcgan_is_reproducible_and_dtype_follows():
    a = dcgan_generator(latent_dim=8, rng=mg.backend.default_rng(5))
    b = dcgan_generator(latent_dim=8, rng=mg.backend.default_rng(5))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va, vb)
    assert all(p.dtype == np.float32 for p in a.parameters())
    D = dcgan_discriminator(dtype="float64")
    assert all(p.dtype == np.float64 for p in D.parameters())


@pytest.mark.parametrize("n", [1, 3])
def test_dcgan_forward_backward_shapes(array_backend, n):
    xp = array_backend
    rng = mg.backend.default_rng(0)
    G, D = dcgan_generator(latent_dim=10, rng=rng), dcgan_discriminator(rng=rng)
    z = rng.standard_normal((n, 10), dtype=xp.float32)
    images = G(z)
    assert isinstance(images, xp.ndarray)
    assert images.shape == (n, 28, 28, 1) and images.dtype == xp.float32
    assert float(xp.abs(images).max()) <= 1.0
    logits = D(images)
    assert logits.shape == (n, 1) and logits.dtype == xp.float32
    g_images = D.backward(xp.ones((n, 1), dtype=xp.float32))
    assert g_images.shape == (n, 28, 28, 1)
    assert G.backward(g_images).shape == (n, 10)
    assert all(float(xp.abs(p.grad).sum()) > 0 for p in G.parameters())


def test_mlp_models(array_backend):
    xp = array_backend
    G = mlp_generator(latent_dim=12, hidden=(32, 16))
    D = mlp_discriminator(hidden=(24,))
    assert [type(m) for m in G] == [nn.Dense, nn.LeakyReLU, nn.Dense, nn.LeakyReLU, nn.Dense,
                                    nn.Tanh, nn.Reshape]
    assert [type(m) for m in D] == [nn.Flatten, nn.Dense, nn.LeakyReLU, nn.Dense]
    assert (G[4].out_features, D[1].in_features, D[3].out_features) == (784, 784, 1)
    z = mg.backend.default_rng(0).standard_normal((5, 12), dtype=xp.float32)
    images = G(z)
    assert images.shape == (5, 28, 28, 1) and float(xp.abs(images).max()) <= 1.0
    assert D(images).shape == (5, 1)
    assert G.backward(D.backward(xp.ones((5, 1), dtype=xp.float32))).shape == (5, 12)
    small = mlp_generator(latent_dim=3, hidden=(), image_shape=(4, 4, 2))
    assert [type(m) for m in small] == [nn.Dense, nn.Tanh, nn.Reshape]


def test_conditional_models_shapes_and_keys(array_backend):
    xp = array_backend
    G = conditional_generator(latent_dim=8, num_classes=3, hidden=(16,))
    D = conditional_discriminator(num_classes=3, hidden=(16,))
    assert isinstance(G, LabelConditioned) and isinstance(D, LabelConditioned)
    assert G.net[0].in_features == 8 + 3 and D.net[0].in_features == 784 + 3
    assert list(G.state_dict()) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]
    assert [name for name, _ in D.named_parameters()][0] == "net.0.weight"
    z = mg.backend.default_rng(0).standard_normal((4, 8), dtype=xp.float32)
    labels = xp.asarray(np.array([0, 1, 2, 1]))
    images = G(z, labels)
    assert images.shape == (4, 28, 28, 1) and images.dtype == xp.float32
    logits = D(images, labels=labels)
    assert logits.shape == (4, 1)
    g_images = D.backward(xp.ones((4, 1), dtype=xp.float32))
    assert g_images.shape == (4, 28, 28, 1)
    assert G.backward(g_images).shape == (4, 8)
    # host (NumPy) labels are accepted and copied to the device
    assert D(images, np.array([2, 2, 0, 1], dtype=np.uint8)).shape == (4, 1)


def test_labels_change_the_output(array_backend):
    xp = array_backend
    G = conditional_generator(latent_dim=4, num_classes=5, hidden=(8,), image_shape=(3, 3, 1))
    D = conditional_discriminator(num_classes=5, image_shape=(3, 3, 1), hidden=(8,))
    z = xp.asarray(np.tile(mg.backend.to_numpy(mg.backend.default_rng(0).standard_normal(
        (1, 4), dtype=xp.float32)), (5, 1)))  # one noise vector, five classes
    labels = xp.asarray(np.arange(5))
    images = mg.backend.to_numpy(G(z, labels))
    for k in range(1, 5):
        assert not np.allclose(images[0], images[k])
    same = xp.asarray(np.tile(images[:1], (5, 1, 1, 1)))
    logits = mg.backend.to_numpy(D(same, labels)).ravel()
    assert len(set(np.round(logits, 6))) == 5


class FixedLabels(mg.nn.Module):
    """Wraps a LabelConditioned module as a one-argument module for check_module."""

    def __init__(self, module, labels):
        super().__init__()
        self.module = module
        self.labels = labels

    def forward(self, x):
        return self.module(x, self.labels)

    def backward(self, gy, need_input_grad=True):
        return self.module.backward(gy, need_input_grad)


@given(n=st.integers(1, 4), latent=st.integers(1, 4), classes=st.integers(2, 4),
       hidden=st.lists(st.integers(1, 4), max_size=2), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=15)
def test_conditional_gradients_match_finite_differences(array_backend, n, latent, classes,
                                                        hidden, seed):
    rng = mg.backend.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    G = conditional_generator(latent, classes, tuple(hidden), (2, 2, 1), dtype="float64",
                              rng=rng)
    D = conditional_discriminator(classes, (2, 2, 1), tuple(hidden), dtype="float64", rng=rng)
    for module, x in ((G, rng.standard_normal((n, latent))),
                      (D, rng.standard_normal((n, 2, 2, 1)))):
        errors = check_module(FixedLabels(module, labels), x)
        assert [e.name for e in errors][0] == "input"
        assert len(errors) == 1 + 2 * (len(hidden) + 1)
        for error in errors:
            assert error.within(1e-6), error


def test_conditional_backward_without_input_gradient():
    G = conditional_generator(latent_dim=3, num_classes=2, hidden=(4,), image_shape=(2, 2, 1))
    G(np.ones((2, 3), dtype=np.float32), np.array([0, 1]))
    assert G.backward(np.ones((2, 2, 2, 1), dtype=np.float32), need_input_grad=False) is None
    assert all(float(np.abs(p.grad).sum()) > 0 for p in G.parameters())
    with pytest.raises(StateError, match="backward called without a preceding forward"):
        G.backward(np.ones((2, 2, 2, 1), dtype=np.float32))


def test_label_validation(array_backend):
    xp = array_backend
    D = conditional_discriminator(num_classes=3, image_shape=(2, 2, 1), hidden=(4,))
    x = xp.zeros((2, 2, 2, 1), dtype=xp.float32)
    where = r"LabelConditioned\(num_classes=3, input_shape=\(2, 2, 1\)\)"
    with pytest.raises(DTypeError, match=where + ": labels must be integers.*float64"):
        D(x, xp.asarray(np.array([0.0, 1.0])))
    with pytest.raises(DTypeError, match="labels must be integers.*bool"):
        D(x, xp.asarray(np.array([True, False])))
    with pytest.raises(ShapeError, match=r"labels must have shape \(2,\).*got \(2, 1\)"):
        D(x, xp.asarray(np.array([[0], [1]])))
    with pytest.raises(ShapeError, match=r"labels must have shape \(2,\).*got \(3,\)"):
        D(x, xp.asarray(np.array([0, 1, 2])))
    with pytest.raises(ConfigError, match=r"labels must lie in \[0, 3\), got values in \[0, 3\]"):
        D(x, xp.asarray(np.array([0, 3])))
    with pytest.raises(ConfigError, match=r"labels must lie in \[0, 3\), got values in \[-1, 1\]"):
        D(x, xp.asarray(np.array([-1, 1])))
    with pytest.raises(ShapeError, match=where + r": expected inputs of shape \(N, 2, 2, 1\), "
                                                 r"got \(2, 2, 3, 1\)"):
        D(xp.zeros((2, 2, 3, 1), dtype=xp.float32), xp.asarray(np.array([0, 1])))
    with pytest.raises(DTypeError, match="expected a floating-point input"):
        D(xp.zeros((2, 2, 2, 1), dtype=xp.int64), xp.asarray(np.array([0, 1])))


@pytest.mark.parametrize("build, kwargs, message", [
    (dcgan_generator, {"latent_dim": 0}, "latent_dim must be a positive int, got 0"),
    (dcgan_generator, {"latent_dim": True}, "latent_dim must be a positive int, got True"),
    (mlp_generator, {"hidden": (16, 0)}, r"hidden must be a tuple of positive ints"),
    (mlp_discriminator, {"hidden": "big"}, r"hidden must be a tuple of positive ints"),
    (mlp_discriminator, {"image_shape": (28, -28)}, r"image_shape must be a tuple of positive"),
    (conditional_generator, {"num_classes": 1}, "num_classes must be an int >= 2, got 1"),
    (conditional_discriminator, {"num_classes": 2.0}, "num_classes must be an int >= 2"),
    (conditional_generator, {"latent_dim": -3}, "conditional_generator: latent_dim"),
])
def test_configuration_errors(build, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        build(**kwargs)


def test_label_conditioned_layer_errors():
    with pytest.raises(ConfigError, match="inner must be a minigan Module"):
        LabelConditioned(lambda x: x, 10)
    with pytest.raises(ConfigError, match="num_classes must be an int >= 2"):
        LabelConditioned(nn.Dense(3, 1), 1)


def test_build_models_by_name():
    from minigan.gan.model_names import MODELS, build_models

    assert MODELS == ("dcgan", "mlp", "conditional", "conditional-dcgan", "progressive")
    G, D = build_models("dcgan", 16, rng=mg.backend.default_rng(0))
    assert (count(D), G[0].in_features) == (D_PARAMETERS, 16)
    G, D = build_models("mlp", 8)
    assert isinstance(G[0], nn.Dense) and isinstance(D[0], nn.Flatten)
    G, D = build_models("conditional", 8, num_classes=4)
    assert (G.num_classes, D.num_classes, G.net[0].in_features) == (4, 4, 12)
    with pytest.raises(ConfigError, match=r"unknown model 'vae': expected one of 'dcgan', "):
        build_models("vae")
    _, D = build_models("dcgan", spectral_norm=True, minibatch_stddev=True)
    assert [type(D[i]).__name__ for i in (0, 5, 7)] == ["SpectralNorm", "MinibatchStdDev",
                                                         "SpectralNorm"]
    _, D = build_models("mlp", minibatch_stddev=True)
    assert isinstance(D[-2], nn.MinibatchStdDev)
    _, D = build_models("conditional", spectral_norm=True, minibatch_stddev=True)
    assert [type(layer).__name__ for layer in D.net] == [
        "SpectralNorm", "LeakyReLU", "SpectralNorm", "LeakyReLU", "MinibatchStdDev",
        "SpectralNorm"]
    G, D = build_models("conditional-dcgan", 8, num_classes=4)
    assert (G.num_classes, D.num_classes, G.net[0].in_features) == (4, 4, 12)
    G, D = build_models("progressive", 8, minibatch_stddev=True, equalized_lr=True)
    assert (G.latent_dim, G.resolution, D.minibatch_stddev, D.equalized_lr) == (8, 7, True, True)
    for model, options, message in [
            ("progressive", {"spectral_norm": True}, "spectral_norm is offered for every model "
                                                     "but 'progressive'"),
            ("dcgan", {"equalized_lr": True}, "equalized_lr is offered for the 'progressive'"),
            ("conditional-dcgan", {"critic": True}, "a critic for a gradient penalty is offered"),
            ("progressive", {"critic": True}, "a critic for a gradient penalty is offered")]:
        with pytest.raises(ConfigError, match=f"build_models: {message}"):
            build_models(model, **options)


@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("minibatch_stddev", [False, True])
def test_discriminator_cures_change_the_network_as_documented(array_backend, spectral_norm,
                                                               minibatch_stddev):
    """spectral_norm wraps every Conv2d/Dense; minibatch_stddev adds one channel before
    the flattening; the DCGAN discriminator with them runs forward and backward; a small
    MLP discriminator with the same cures matches finite differences in every element
    (the whole DCGAN discriminator's gradients: the next test)."""
    xp = array_backend
    rng = mg.backend.default_rng(0)
    D = dcgan_discriminator(spectral_norm=spectral_norm, minibatch_stddev=minibatch_stddev,
                            dtype="float64", rng=rng)
    kinds = [type(layer).__name__ for layer in D]
    expected = ["Conv2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU"]
    expected += ["MinibatchStdDev"] * minibatch_stddev + ["Flatten", "Dense"]
    if spectral_norm:
        expected = ["SpectralNorm" if k in ("Conv2d", "Dense") else k for k in expected]
        assert all(layer.u.shape == (layer.layer.weight.shape[-1],)
                   for layer in D if isinstance(layer, nn.SpectralNorm))
        assert "0.u" in D.state_dict() and "0.layer.weight" in D.state_dict()
    assert kinds == expected
    assert count(D) == D_PARAMETERS + 7 * 7 * minibatch_stddev
    x = mg.backend.default_rng(1).uniform(-1, 1, (3, 28, 28, 1))
    assert D(x).shape == (3, 1) and D.backward(xp.ones((3, 1))).shape == x.shape

    # finite differences on a small MLP (the DCGAN's 40k LeakyReLU inputs, ~0.01 in size,
    # put some within a 1e-6 step of the kink); eval: spectral norm's u held fixed
    M = mlp_discriminator((4, 4, 1), (6, 5), spectral_norm=spectral_norm,
                          minibatch_stddev=minibatch_stddev, dtype="float64", rng=rng).eval()
    assert M(xp.zeros((2, 4, 4, 1))).shape == (2, 1)
    for error in check_module(M, mg.backend.default_rng(2).uniform(-1, 1, (3, 4, 4, 1))):
        assert error.within(1e-6), error


def leaky_inputs_and_loss(model, x, gy):
    """L = sum(model(x) * gy) for a Sequential run layer by layer, and the signs of
    every LeakyReLU layer's input on the way."""
    signs = []
    for layer in model:
        if isinstance(layer, nn.LeakyReLU):
            signs.append(np.sign(x))
        x = layer(x)
    return float((x * gy).sum()), signs


SAMPLED_ENTRIES = 12


@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize("minibatch_stddev", [False, True])
def test_the_whole_dcgan_discriminator_with_its_cures_matches_finite_differences(
        spectral_norm, minibatch_stddev):
    """The full 28x28 DCGAN discriminator (float64, its own initialisation, BatchNorm on
    batch statistics, SpectralNorm's u held as stored) on 3 random images: at 12 random
    entries (all, if fewer) of the input and of every parameter, the backward's
    derivative of L = sum(D(x) * gy) (random gy) is the central difference (eps 1e-6)
    to 1e-6 of the largest sampled derivative of that array, beyond the round-off floor.
    The conv bias that feeds BatchNorm has true gradient 0: both sides must be at
    round-off level there. An entry whose +-eps flips the sign of some LeakyReLU input
    (a difference across a kink, where no derivative exists) is passed over for the
    next random one; fewer entries are passed over than checked."""
    eps = 1e-6
    D = dcgan_discriminator(spectral_norm=spectral_norm, minibatch_stddev=minibatch_stddev,
                            dtype="float64", rng=mg.backend.default_rng(0))
    D.train()
    for layer in D:
        if isinstance(layer, nn.SpectralNorm):
            layer.eval()  # u as stored: a fixed function of the weight
    rng = np.random.default_rng(1)
    x, gy = rng.uniform(-1, 1, (3, 28, 28, 1)), rng.standard_normal((3, 1))
    y = D(x)
    D.zero_grad()
    analytic = {"input": D.backward(gy)}
    analytic.update({name: p.grad.copy() for name, p in D.named_parameters()})
    arrays = {"input": x}
    arrays.update({name: p.data for name, p in D.named_parameters()})
    assert len(arrays) == 9  # input, 2 conv and 1 dense weight + bias, BatchNorm gamma, beta
    floor = roundoff_floor(y, gy, eps)
    _, kinks = leaky_inputs_and_loss(D, x, gy)
    assert floor < 1e-8
    for name, array in arrays.items():
        picked, numeric, passed_over = [], [], 0
        for i in rng.permutation(array.size):
            if len(picked) == SAMPLED_ENTRIES:
                break
            original = array.flat[i]
            array.flat[i] = original + eps
            plus, plus_kinks = leaky_inputs_and_loss(D, x, gy)
            array.flat[i] = original - eps
            minus, minus_kinks = leaky_inputs_and_loss(D, x, gy)
            array.flat[i] = original
            if not all(np.array_equal(before, after) for before, *others in
                       zip(kinks, plus_kinks, minus_kinks) for after in others):
                passed_over += 1
                continue
            picked.append(i)
            numeric.append((plus - minus) / (2 * eps))
        assert len(picked) == min(SAMPLED_ENTRIES, array.size) and passed_over < len(picked), \
            (name, len(picked), passed_over)
        numeric, ours = np.array(numeric), analytic[name].flat[picked]
        error = np.abs(ours - numeric).max()
        if name.startswith("2.") and name.endswith("bias"):  # the conv bias before BatchNorm
            assert max(np.abs(ours).max(), np.abs(numeric).max()) <= floor, (name, ours, numeric)
            continue
        scale = np.abs(numeric).max()
        assert scale > 1e-6, (name, numeric)
        assert max(error - floor, 0) <= 1e-6 * scale, (name, error, scale, floor)


def test_discriminator_cure_flags_must_be_booleans():
    with pytest.raises(ConfigError, match=r"dcgan_discriminator: spectral_norm must be True or "
                                          r"False, got 'yes'"):
        dcgan_discriminator(spectral_norm="yes")
    with pytest.raises(ConfigError, match=r"mlp_discriminator: minibatch_stddev must be True or "
                                          r"False, got 1"):
        mlp_discriminator(minibatch_stddev=1)
