"""PacGAN's packing in the Trainer and PacGAN's networks: the layout of a packed batch,
m = 1 as the unpacked trainer (the same computation, bitwise), what D sees with m > 1,
every loss, penalty and technique with packing, and the errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, ShapeError
from minigan.gan.objectives import OBJECTIVES
from minigan.gan.packing import pack, unpack


@given(m=st.integers(1, 4), b=st.integers(1, 3), f=st.integers(1, 3))
@settings(max_examples=20, deadline=None)
def test_packing_vectors_puts_m_consecutive_samples_side_by_side(array_backend, m, b, f):
    xp = mg.backend.xp
    x = xp.arange(m * b * f, dtype=xp.float64).reshape(m * b, f)
    packed = pack(x, m)
    assert tuple(packed.shape) == (b, m * f)
    host, packed_host = mg.backend.to_numpy(x), mg.backend.to_numpy(packed)
    for i in range(b):  # packed sample i = concat(x[i m], ..., x[i m + m - 1])
        assert packed_host[i].tolist() == host[i * m:(i + 1) * m].ravel().tolist()
    assert float(xp.abs(unpack(packed, m) - x).max()) == 0.0


@given(m=st.integers(1, 3), b=st.integers(1, 2), hw=st.integers(1, 3), c=st.integers(1, 2))
@settings(max_examples=15, deadline=None)
def test_packing_images_stacks_them_along_the_channels(array_backend, m, b, hw, c):
    xp = mg.backend.xp
    x = xp.arange(m * b * hw * hw * c, dtype=xp.float64).reshape(m * b, hw, hw, c)
    packed = pack(x, m)
    assert tuple(packed.shape) == (b, hw, hw, m * c)
    host, packed_host = mg.backend.to_numpy(x), mg.backend.to_numpy(packed)
    for i in range(b):
        expected = np.concatenate([host[i * m + j] for j in range(m)], axis=-1)
        assert (packed_host[i] == expected).all()
    assert float(xp.abs(unpack(packed, m) - x).max()) == 0.0


def ring_models(pack_size=1, dtype="float64", seed=0, **options):
    rng = mg.backend.default_rng(seed)
    G = mg.gan.pacgan_generator(dtype=dtype, rng=rng)
    D = mg.gan.pacgan_discriminator(pack=pack_size, dtype=dtype, rng=rng, **options)
    return G, D


def batch(n, dtype="float64", seed=0):
    return mg.data.gaussian_ring(n, seed=seed).astype(dtype)


def test_pack_1_is_the_unpacked_trainer_bitwise(array_backend):
    xp = mg.backend.xp
    trainers = [mg.gan.Trainer(*ring_models(), real_label=1.0, **extra)
                for extra in ({}, {"pack": 1})]
    for step in range(3):
        stats = [t.step(batch(8, seed=step)) for t in trainers]
        assert stats[0] == stats[1]
    for a, b in zip(*(t.G.parameters() + t.D.parameters() for t in trainers)):
        assert bool(xp.all(a.data == b.data))


@pytest.mark.parametrize("m", [2, 3])
def test_d_sees_n_over_m_packed_inputs_of_width_2m(m):
    trainer = mg.gan.Trainer(*ring_models(m), pack=m)
    seen_by_d, made_by_g = [], []
    trainer.D.register_forward_hook(lambda mod, inputs, out: seen_by_d.append(
        (trainer.phase, tuple(inputs[0].shape))))
    trainer.G.register_forward_hook(lambda mod, inputs, out: made_by_g.append(
        tuple(out.shape)))
    trainer.step(batch(4 * m))
    assert seen_by_d == [("d_real", (4, 2 * m)), ("d_fake", (4, 2 * m)), ("g", (4, 2 * m))]
    assert made_by_g == [(4 * m, 2), (4 * m, 2)]     # G draws m * B samples per pass


def test_d_judges_the_packed_real_batch():
    """d_real is the mean of sigmoid(D(pack(real))), computed before D's update."""
    G, D = ring_models(2)
    real = batch(12)
    logits = mg.backend.to_numpy(D.forward(pack(real, 2)))
    expected = float((1 / (1 + np.exp(-logits))).mean())
    stats = mg.gan.Trainer(G, D, pack=2).step(real)
    assert stats["d_real"] == pytest.approx(expected, rel=1e-12)


def test_the_generator_gets_the_unpacked_gradient_through_d():
    """G's step: dL/dx_fake for m * B samples is D's input gradient for B packed inputs,
    unpacked. Checked as a directional derivative of the G loss in G's last bias."""
    G, D = ring_models(2, seed=1)
    trainer = mg.gan.Trainer(G, D, pack=2, lr_g=0.0, lr_d=0.0)   # nothing moves
    z = trainer.noise(8, 1)         # the G step's noise stream (noise_streams.G_NOISE)

    def g_loss():
        fake = G.forward(z)
        logits = D.forward(pack(fake, 2))
        return float(np.logaddexp(0, -mg.backend.to_numpy(logits)).mean())  # -log sigmoid

    bias = G[-1].bias
    direction = np.random.default_rng(0).standard_normal(bias.shape)
    h = 1e-6
    bias.data += h * direction
    up = g_loss()
    bias.data -= 2 * h * direction
    down = g_loss()
    bias.data += h * direction
    trainer.step(batch(8))          # lr 0: the gradients are computed, nothing changes
    analytic = float((bias.grad * direction).sum())
    assert analytic == pytest.approx((up - down) / (2 * h), rel=1e-6)


LOSSES = sorted(OBJECTIVES)
TECHNIQUES = {"r1": {"r1": 1.0}, "instance_noise": {"instance_noise": 0.1},
              "feature_matching": {"feature_matching": 1}, "replay": {"replay_size": 16},
              "historical_averaging": {"historical_averaging": 0.1},
              "two_sided_smoothing": {"fake_label": 0.1}, "d_steps": {"d_steps": 2}}


@pytest.mark.parametrize("case", LOSSES + sorted(TECHNIQUES))
def test_every_loss_penalty_and_technique_trains_packed(case):
    loss, options = (case, {}) if case in OBJECTIVES else ("non-saturating", TECHNIQUES[case])
    trainer = mg.gan.Trainer(*ring_models(3, dtype="float32"), loss=loss, pack=3, **options)
    shapes = []
    trainer.D.register_forward_hook(lambda m, inputs, out: shapes.append(inputs[0].shape))
    before = [p.data.copy() for p in trainer.D.parameters()]
    for step in range(2):
        stats = trainer.step(batch(12, "float32", step))
    assert all(math.isfinite(v) for v in stats.values())
    assert shapes and all(tuple(s)[1] == 6 for s in shapes)
    if case == "r1" or loss == "wgan-gp":
        assert stats["penalty"] > 0 and stats["grad_norm_x"] > 0
    moved = max(float(np.abs(p.data - b).max()) for p, b in zip(trainer.D.parameters(), before))
    assert moved > 0


def test_the_wgan_gp_penalty_is_taken_on_packed_interpolates():
    """The penalty's input is B packed interpolates: its gradient norm per packed sample."""
    G, D = ring_models(2)
    trainer = mg.gan.Trainer(G, D, loss="wgan-gp", pack=2)
    shapes = []
    original = mg.gan.trainer.double_backprop

    def spy(D, x_hat, *args, **kwargs):
        shapes.append(tuple(x_hat.shape))
        return original(D, x_hat, *args, **kwargs)

    mg.gan.trainer.double_backprop = spy
    try:
        trainer.step(batch(10))
    finally:
        mg.gan.trainer.double_backprop = original
    assert shapes == [(5, 4)]


@pytest.mark.parametrize("value", [0, -2, 1.5, True, "2", None])
def test_pack_must_be_a_positive_int(value):
    with pytest.raises(ConfigError, match="pack must be a positive int"):
        mg.gan.Trainer(*ring_models(), pack=value)


def test_a_d_whose_width_is_not_a_multiple_of_pack_is_refused():
    with pytest.raises(ConfigError, match=r"pack=2 needs a D whose input width.*3"):
        mg.gan.Trainer(mg.gan.pacgan_generator(),
                       mg.gan.pacgan_discriminator(data_dim=3), pack=2)


def test_conditional_models_cannot_be_packed():
    G, D = mg.gan.conditional_generator(), mg.gan.conditional_discriminator()
    with pytest.raises(ConfigError, match="unconditional"):
        mg.gan.Trainer(G, D, pack=2)


@pytest.mark.parametrize("n, d_pack, message", [
    (7, 2, "multiple of 2 samples"),
    (12, 3, r"2 x 2 = 4 features per packed input, but its first layer takes 6"),
])
def test_a_batch_that_does_not_pack_is_refused_before_anything_changes(n, d_pack, message):
    G, D = ring_models(d_pack)
    trainer = mg.gan.Trainer(G, D, pack=2)
    before = {k: v.copy() for k, v in trainer.state_dict().items() if hasattr(v, "copy")}
    with pytest.raises(ShapeError, match=message):
        trainer.step(batch(n))
    after = trainer.state_dict()
    assert trainer.step_count == 0
    assert all(np.array_equal(after[k], v) for k, v in before.items())


# -- the networks ---------------------------------------------------------------------------

def test_pacgans_generator_layers_and_init():
    G = mg.gan.pacgan_generator(rng=mg.backend.default_rng(0))
    kinds = [type(layer).__name__ for layer in G]
    assert kinds == ["Dense", "BatchNorm1d", "ReLU"] * 4 + ["Dense"]
    dense = [layer for layer in G if isinstance(layer, mg.nn.Dense)]
    assert [d.weight.shape for d in dense] == [(2, 400)] + [(400, 400)] * 3 + [(400, 2)]
    weights = np.concatenate([d.weight.data.ravel() for d in dense])
    # 481,600 draws of N(0, 0.02^2): the sample std within 1 % of 0.02
    assert abs(weights.std() / 0.02 - 1) < 0.01 and abs(weights.mean()) < 1e-4
    assert all(not d.bias.data.any() for d in dense)
    bns = [layer for layer in G if isinstance(layer, mg.nn.BatchNorm1d)]
    assert all((b.weight.data == 1).all() and not b.bias.data.any() for b in bns)
    assert tuple(G(mg.backend.xp.zeros((5, 2), dtype="float32")).shape) == (5, 2)
    assert mg.gan.Trainer(G, mg.gan.pacgan_discriminator()).latent_dim == 2


@pytest.mark.parametrize("m", [1, 2, 4])
def test_pacgans_discriminator_layers(m):
    D = mg.gan.pacgan_discriminator(pack=m, rng=mg.backend.default_rng(0))
    assert [repr(layer) for layer in D] == [
        f"Maxout({2 * m}, 200, pieces=5, bias=True)", "Maxout(200, 200, pieces=5, bias=True)",
        "Maxout(200, 200, pieces=5, bias=True)", "Dense(200, 1, bias=True)"]
    assert tuple(D(mg.data.gaussian_ring(3 * m, seed=0).reshape(3, 2 * m)).shape) == (3, 1)
    weights = np.concatenate([p.data.ravel() for p in D.parameters() if p.data.ndim == 2])
    assert abs(weights.std() / 0.02 - 1) < 0.02
    assert all(not p.data.any() for p in D.parameters() if p.data.ndim == 1)


def test_pacgans_discriminator_with_the_remedies():
    D = mg.gan.pacgan_discriminator(minibatch_stddev=True, spectral_norm=True)
    kinds = [type(layer).__name__ for layer in D]
    assert kinds == ["SpectralNorm"] * 3 + ["MinibatchStdDev", "SpectralNorm"]
    assert D[4].layer.weight.shape == (201, 1) and isinstance(D[0].layer, mg.nn.Maxout)
    assert tuple(D(mg.data.gaussian_ring(6, seed=0)).shape) == (6, 1)


def test_spectral_norm_divides_a_maxout_weight_by_its_top_singular_value():
    layer = mg.nn.Maxout(4, 3, 2, dtype="float64", rng=mg.backend.default_rng(0))
    sn = mg.nn.SpectralNorm(layer, n_power_iterations=50, rng=mg.backend.default_rng(1))
    sn(np.zeros((1, 4)))      # training forward: 50 power iterations
    sigma = np.linalg.svd(layer.weight.data, compute_uv=False)[0]
    assert float(sn.sigma()) == pytest.approx(sigma, rel=1e-10)


@pytest.mark.parametrize("call, message", [
    (lambda: mg.gan.pacgan_generator(latent_dim=0), "latent_dim"),
    (lambda: mg.gan.pacgan_discriminator(pack=0), "pack"),
    (lambda: mg.gan.pacgan_discriminator(spectral_norm=1), "spectral_norm"),
])
def test_bad_network_arguments_are_refused(call, message):
    with pytest.raises(ConfigError, match=message):
        call()
