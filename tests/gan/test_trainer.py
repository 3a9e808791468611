"""The Trainer: the frozen-D G step, k D steps, each technique changing what it should,
reproducibility and exact resumption, and a short real training run."""

import numpy as np
import pytest

import minigan as mg
from minigan.data import Batches, load_embedded_mnist
from minigan.gan import HistoricalAverage, ReplayBuffer, Trainer, instance_noise_std


def mlp_trainer(seed=0, **options):
    """A small float64 MLP GAN on 8x8 images: fast, and exact enough to compare."""
    rng = mg.backend.default_rng(seed)
    G = mg.gan.mlp_generator(8, hidden=(16,), image_shape=(8, 8, 1), dtype="float64", rng=rng)
    D = mg.gan.mlp_discriminator(image_shape=(8, 8, 1), hidden=(16,), dtype="float64", rng=rng)
    return Trainer(G, D, seed=seed, **options)


def real_batch(n=6, seed=1):
    return mg.backend.default_rng(seed).uniform(-1, 1, (n, 8, 8, 1))


def parameters_of(trainer):
    return [mg.backend.to_numpy(p.data).copy()
            for p in trainer.G.parameters() + trainer.D.parameters()]


def test_step_reports_every_number():
    stats = mlp_trainer().step(real_batch())
    for key in ["loss_d", "loss_d_real", "loss_d_fake", "loss_g", "d_real", "d_fake",
                "grad_norm_d", "grad_norm_g"]:
        assert isinstance(stats[key], float) and np.isfinite(stats[key]), key
    assert stats["loss_d"] == pytest.approx(stats["loss_d_real"] + stats["loss_d_fake"])
    assert 0 < stats["d_real"] < 1 and 0 < stats["d_fake"] < 1
    assert stats["step"] == 1


@pytest.mark.parametrize("d_steps", [1, 3])
def test_the_g_step_stores_no_discriminator_weight_gradients(d_steps):
    """Only the D steps add into D's .grad; D is unfrozen after the G step. (That the G
    step does not even *compute* D's weight gradients is counted, product by product, in
    test_operation_counts.py.)"""
    trainer = mlp_trainer(d_steps=d_steps)
    calls = []
    for p in trainer.D.parameters():
        original = p.accumulate
        p.accumulate = lambda g, original=original: (calls.append(1), original(g))
    trainer.step(real_batch())
    # each D step accumulates once per parameter for the real and once for the fake
    # batch; the G step, through the frozen D, adds nothing
    assert len(calls) == 2 * len(trainer.D.parameters()) * d_steps
    assert all(p.requires_grad for p in trainer.D.parameters())  # unfrozen afterwards
    assert trainer.opt_d.t == d_steps and trainer.opt_g.t == 1


def _leaky(v, slope=0.2):
    return np.where(v > 0, v, slope * v)


def _generator_step_by_hand(G, D, z):
    """The non-saturating generator loss mean(-log sigmoid(D(G(z)))) and its gradient
    w.r.t. G's weights, written out in NumPy for the MLP pair of ``mlp_trainer``
    (G: Dense, LeakyReLU(0.2), Dense, Tanh, Reshape; D: Flatten, Dense, LeakyReLU(0.2),
    Dense); only the weights are read from the modules."""
    (g1, c1), (g2, c2) = [(G[i].weight.data.copy(), G[i].bias.data.copy()) for i in (0, 2)]
    (d1, e1), (d2, e2) = [(D[i].weight.data.copy(), D[i].bias.data.copy()) for i in (1, 3)]
    n = z.shape[0]
    h = z @ g1 + c1                      # G
    a = _leaky(h)
    x = np.tanh(a @ g2 + c2)             # (N, 64): the flattened (8, 8, 1) images
    u = x @ d1 + e1                      # D
    f = _leaky(u) @ d2 + e2              # logits (N, 1)
    loss = np.mean(np.logaddexp(0, -f))  # -log sigmoid(f) = log(1 + exp(-f))
    df = -1 / (1 + np.exp(f)) / n        # d loss / d f = -sigmoid(-f) / N
    du = (df @ d2.T) * np.where(u > 0, 1, 0.2)
    dx = du @ d1.T                       # d loss / d fake image: through D
    do = dx * (1 - x * x)                # tanh'
    dh = (do @ g2.T) * np.where(h > 0, 1, 0.2)
    return loss, [z.T @ dh, dh.sum(axis=0), a.T @ do, do.sum(axis=0)]


def test_the_generator_step_uses_the_gradient_computed_by_hand_in_numpy():
    """After one full step (so biases are non-zero), ``_g_step``'s loss and the weight
    gradients it leaves in G's parameters equal the non-saturating loss and its
    gradient written out by hand in NumPy from the same weights and noise: the logit
    gradient -sigmoid(-f)/N pushed through D's layers to the fake images, then through
    G's (``_generator_step_by_hand``; no minigan layer, backward or objective used)."""
    trainer = mlp_trainer()
    trainer.step(real_batch())
    z = mg.backend.to_numpy(trainer.noise(6, stream=1))  # the G step's noise stream
    loss, expected = _generator_step_by_hand(trainer.G, trainer.D, z)
    stats = trainer._g_step(real_batch(), None, 6)
    assert stats["loss_g"] == pytest.approx(loss, rel=1e-12)
    used = [p.grad for p in trainer.G.parameters()]
    assert [g.shape for g in used] == [e.shape for e in expected]
    for mine, theirs in zip(used, expected):
        assert np.abs(theirs).max() > 1e-4  # a real gradient, not zeros
        assert np.abs(mine - theirs).max() <= 1e-12 * np.abs(theirs).max()
    assert stats["grad_norm_g"] == pytest.approx(
        np.sqrt(sum((e * e).sum() for e in expected)), rel=1e-12)


def test_label_smoothing_changes_only_its_own_term():
    plain = mlp_trainer(real_label=1.0).step(real_batch())
    one_sided = mlp_trainer(real_label=0.9).step(real_batch())
    two_sided = mlp_trainer(real_label=0.9, fake_label=0.1).step(real_batch())
    assert one_sided["loss_d_real"] != pytest.approx(plain["loss_d_real"])
    assert one_sided["loss_d_fake"] == pytest.approx(plain["loss_d_fake"], rel=1e-12)
    assert two_sided["loss_d_fake"] != pytest.approx(one_sided["loss_d_fake"])
    assert two_sided["loss_d_real"] == pytest.approx(one_sided["loss_d_real"], rel=1e-12)


def test_instance_noise_decays_linearly_and_reaches_the_discriminator():
    assert [instance_noise_std(0.5, t, 4) for t in range(6)] == [0.5, 0.375, 0.25, 0.125, 0, 0]
    quiet = mlp_trainer().step(real_batch())
    noisy_trainer = mlp_trainer(instance_noise=0.5, instance_noise_steps=4)
    noisy = noisy_trainer.step(real_batch())
    assert noisy["instance_noise"] == 0.5
    assert noisy["d_real"] != pytest.approx(quiet["d_real"])
    assert [noisy_trainer.step(real_batch())["instance_noise"] for _ in range(4)] == \
        [0.375, 0.25, 0.125, 0.0]


def test_feature_matching_gradient_matches_finite_differences():
    trainer = mlp_trainer(feature_matching=2)  # D[0..2]: Flatten, Dense, LeakyReLU
    real = real_batch()
    fake = mg.backend.default_rng(3).uniform(-1, 1, (6, 8, 8, 1))

    def loss():
        head = trainer.D[:3]
        difference = head(fake).mean(axis=0) - head(real).mean(axis=0)
        return float((difference * difference).sum())

    value, grad = trainer._feature_matching_gradient(real, fake)
    assert value == pytest.approx(loss(), rel=1e-12)
    numeric = mg.gradcheck.numerical_gradient(loss, fake)
    assert mg.gradcheck.relative_error(grad, numeric) < 1e-6
    plain, matched = mlp_trainer().step(real), trainer.step(real)
    assert matched["loss_g"] != pytest.approx(plain["loss_g"])


def test_replay_buffer_mixes_in_stored_fakes():
    buffer = ReplayBuffer(capacity=8, fraction=0.5)
    rng = mg.backend.default_rng(0)
    first = np.full((4, 2, 2, 1), 1.0)
    assert buffer.mix(first, None, rng)[0] is first  # nothing stored yet
    second = np.full((4, 2, 2, 1), 2.0)
    mixed, _ = buffer.mix(second, None, rng)
    assert mixed[:2].tolist() == first[:2].tolist() and (mixed[2:] == 2.0).all()
    assert buffer.size == 8 and (second == 2.0).all()  # the caller's batch is not modified
    buffer.mix(np.full((4, 2, 2, 1), 3.0), None, rng)
    assert sorted(set(buffer.images.ravel().tolist())) == [2.0, 3.0]  # ring: oldest replaced
    with_replay = mlp_trainer(replay_size=12)
    with_replay.step(real_batch())
    assert with_replay.replay.size == 6


def test_historical_averaging_pulls_toward_the_past():
    p = mg.nn.Parameter(np.array([1.0, 2.0]))
    average = HistoricalAverage([p])
    p.data[...] = [3.0, 2.0]
    average.add_penalty_gradient(0.5)
    assert p.grad.tolist() == [2.0, 0.0]  # 2 * 0.5 * (theta - average)
    average.update()
    assert average.averages[0].tolist() == [2.0, 2.0]
    plain, averaged = mlp_trainer(), mlp_trainer(historical_averaging=1.0)
    for _ in range(3):
        plain.step(real_batch()), averaged.step(real_batch())
    assert not all(np.array_equal(a, b)
                   for a, b in zip(parameters_of(plain), parameters_of(averaged)))


def test_wgan_clips_the_critic():
    trainer = mlp_trainer(loss="wgan")
    trainer.step(real_batch())
    for p in trainer.D.parameters():
        assert float(abs(p.data).max()) <= 0.01


@pytest.mark.parametrize("loss", ["non-saturating", "minimax", "lsgan", "hinge", "wgan"])
def test_every_objective_trains(loss):
    trainer = mlp_trainer(loss=loss)
    names = [f"G.{n}" for n, _ in trainer.G.named_parameters()] + \
        [f"D.{n}" for n, _ in trainer.D.named_parameters()]
    before = parameters_of(trainer)
    stats = trainer.step(real_batch())
    assert np.isfinite(stats["loss_d"]) and np.isfinite(stats["loss_g"])
    unchanged = [name for name, a, b in zip(names, before, parameters_of(trainer))
                 if np.array_equal(a, b)]
    # the critic's output bias gets d/db [mean(f) - mean(r)] = 1 - 1 = 0 under WGAN
    assert unchanged == (["D.3.bias"] if loss == "wgan" else [])


def test_reproducible_and_exactly_resumable():
    straight = mlp_trainer(seed=5, replay_size=10, historical_averaging=0.1)
    for _ in range(4):
        straight.step(real_batch())
    first = mlp_trainer(seed=5, replay_size=10, historical_averaging=0.1)
    for _ in range(2):
        first.step(real_batch())
    state = {k: mg.backend.to_numpy(v) if hasattr(v, "shape") else v
             for k, v in first.state_dict().items()}
    resumed = mlp_trainer(seed=99, replay_size=10, historical_averaging=0.1)  # other init
    resumed.load_state_dict(state)
    for _ in range(2):
        resumed.step(real_batch())
    for a, b in zip(parameters_of(straight), parameters_of(resumed)):
        np.testing.assert_array_equal(a, b)


def dcgan_trainer(seed):
    """The MNIST DCGAN pair (float32, BatchNorm in both networks), weights from seed."""
    return Trainer(mg.gan.dcgan_generator(rng=mg.backend.default_rng(seed)),
                   mg.gan.dcgan_discriminator(rng=mg.backend.default_rng(seed + 1)), seed=seed)


def running_statistics(trainer):
    """{name: copy} of every BatchNorm's running mean and variance in G and D, read from
    the layers' attributes (not through state_dict or named_buffers)."""
    found = {}
    for net in ("G", "D"):
        for i, layer in enumerate(getattr(trainer, net)):
            if isinstance(layer, mg.nn.BatchNorm2d):
                found[f"{net}.{i}.running_mean"] = layer.running_mean.copy()
                found[f"{net}.{i}.running_var"] = layer.running_var.copy()
    return found


def adam_states(trainer):
    return {f"{name}.{key}": value for name in ("opt_g", "opt_d")
            for key, value in getattr(trainer, name).state_dict().items()}


def test_dcgan_resumes_bit_for_bit_with_running_statistics_and_both_optimizers():
    """The DCGAN on 8 real digits: 2 steps, a state_dict round trip through host NumPy
    into a trainer built from other weights (seed 99), 2 more steps -- bitwise the run
    of 4 straight steps: every parameter, both BatchNorm layers' running statistics
    (read from the layers), both Adam states (m, v, t), the step count, and the
    eval-mode samples (which use the running statistics)."""
    from minigan.data import to_unit_range

    images, _ = load_embedded_mnist(quiet=True)
    real = to_unit_range(images[::625])  # 8 digits: classes 0, 1, 2, 3, 5, 6, 7, 8
    straight = dcgan_trainer(seed=5)
    for _ in range(4):
        straight.step(real)
    first = dcgan_trainer(seed=5)
    for _ in range(2):
        first.step(real)
    state = {k: mg.backend.to_numpy(v) if hasattr(v, "shape") else v
             for k, v in first.state_dict().items()}
    resumed = dcgan_trainer(seed=99)
    resumed.load_state_dict(state)
    for _ in range(2):
        resumed.step(real)

    assert sorted(running_statistics(straight)) == [
        "D.3.running_mean", "D.3.running_var", "G.3.running_mean", "G.3.running_var"]
    for name, value in running_statistics(straight).items():  # they moved off 0 and 1
        assert not np.array_equal(value, np.zeros_like(value) + (name.endswith("var")))
        np.testing.assert_array_equal(running_statistics(resumed)[name], value, err_msg=name)
    assert straight.opt_g.t == straight.opt_d.t == resumed.opt_g.t == resumed.opt_d.t == 4
    for name, value in adam_states(straight).items():
        np.testing.assert_array_equal(adam_states(resumed)[name], value, err_msg=name)
    for a, b in zip(parameters_of(straight), parameters_of(resumed)):
        np.testing.assert_array_equal(a, b)
    assert resumed.step_count == straight.step_count == 4
    z = straight.noise(6, stream=7)
    np.testing.assert_array_equal(resumed.sample(6, z=z), straight.sample(6, z=z))


def test_sample_is_g_in_eval_mode_and_restores_g_s_mode():
    """``sample`` returns G's eval-mode output (BatchNorm on its running statistics, set
    here to random values far from the initial 0 and 1): each image depends on its own z
    only (alone or in a batch of 5: the same image), it equals ``G.eval()(z)`` and not
    the train-mode output, the running statistics are not moved, and G is left in the
    mode it had before (training, and eval)."""
    trainer = Trainer(mg.gan.dcgan_generator(rng=mg.backend.default_rng(0)),
                      mg.gan.dcgan_discriminator(rng=mg.backend.default_rng(1)))
    batchnorm = trainer.G[3]
    rng = np.random.default_rng(2)
    batchnorm.running_mean[...] = rng.normal(0, 0.05, 64)
    batchnorm.running_var[...] = rng.uniform(0.2, 3.0, 64)
    statistics = [b.copy() for _, b in trainer.G.named_buffers()]
    z = trainer.noise(5)
    images = trainer.sample(5, z=z)
    assert images.shape == (5, 28, 28, 1) and float(abs(images).max()) <= 1
    assert trainer.G.training
    for (name, after), before in zip(trainer.G.named_buffers(), statistics):
        np.testing.assert_array_equal(after, before, err_msg=name)
    for i in range(5):  # batch-independent: BatchNorm did not use the batch's statistics
        np.testing.assert_allclose(trainer.sample(1, z=z[i:i + 1])[0], images[i],
                                   rtol=0, atol=1e-6)
    trainer.G.eval()
    np.testing.assert_array_equal(images, trainer.G(z))
    assert not trainer.G.training
    np.testing.assert_array_equal(images, trainer.sample(5, z=z))
    assert not trainer.G.training  # eval before: eval after
    trainer.G.train()
    assert np.abs(trainer.G(z) - images).mean() > 0.01  # the train-mode output is another


def test_conditional_gan_step_on_the_strict_backend(array_backend):
    rng = mg.backend.default_rng(0)
    G = mg.gan.conditional_generator(8, 10, hidden=(16,), image_shape=(8, 8, 1), rng=rng)
    D = mg.gan.conditional_discriminator(10, image_shape=(8, 8, 1), hidden=(16,), rng=rng)
    trainer = Trainer(G, D, latent_dim=8)
    real = mg.backend.default_rng(1).uniform(-1, 1, (6, 8, 8, 1)).astype("float32")
    stats = trainer.step(real, labels=array_backend.arange(6) % 10)
    assert np.isfinite(stats["loss_g"])
    assert trainer.sample(4, labels=array_backend.arange(4)).shape == (4, 8, 8, 1)


@pytest.mark.parametrize("array_backend", ["strict"], indirect=True)
def test_dcgan_steps_on_real_digits_run_on_the_strict_backend_and_move_losses_and_samples(
        array_backend):
    """30 DCGAN steps on real digits through the strict CuPy-like backend: the losses
    vary and the fixed-noise samples change. (That the DCGAN learns is the next test's.)"""
    images, _ = load_embedded_mnist(quiet=True)
    batches = Batches(images[::10], batch_size=32, seed=0)
    trainer = Trainer(mg.gan.dcgan_generator(rng=mg.backend.default_rng(0)),
                      mg.gan.dcgan_discriminator(rng=mg.backend.default_rng(1)), seed=0)
    z = trainer.noise(8)
    before = mg.backend.to_numpy(trainer.sample(8, z=z))
    records = []
    while len(records) < 30:
        for x, _ in batches:
            records.append(trainer.step(x))
            if len(records) == 30:
                break
    after = mg.backend.to_numpy(trainer.sample(8, z=z))
    loss_d = [r["loss_d"] for r in records]
    loss_g = [r["loss_g"] for r in records]
    assert np.std(loss_d) > 0.01 and np.std(loss_g) > 0.01
    assert abs(np.mean(loss_d[-5:]) - np.mean(loss_d[:5])) > 0.05
    assert np.abs(after - before).mean() > 0.05


LEARNING_STEPS = 150


def test_dcgan_learns_digits_of_most_classes_in_150_steps():
    """The CI version of the long run (test_long_training.py): 150 steps (batch 32, the
    default objective and Adam settings, fixed seeds) on the embedded 5,000-digit sample.
    Scored by the shipped MNIST classifier on 500 samples from fixed noise against 500
    real digits (50 of each class), the Fréchet distance falls below half its value at
    initialisation, at least 8 of the 10 classes are present and the mean confidence
    exceeds 0.55. (Measured, seeds 0-4: FD ~840 -> 170-230, 9-10 classes, confidence
    ~0.7; with G's gradient sign flipped FD stays ~800, 3 classes, confidence 0.32.)"""
    from minigan.data import to_unit_range
    from minigan.metrics import evaluate_samples

    images, labels = load_embedded_mnist(quiet=True)
    real = to_unit_range(images[::10])
    assert np.bincount(labels[::10]).tolist() == [50] * 10
    batches = Batches(images, batch_size=32, seed=0)
    trainer = Trainer(mg.gan.dcgan_generator(rng=mg.backend.default_rng(0)),
                      mg.gan.dcgan_discriminator(rng=mg.backend.default_rng(1)), seed=0)
    z = mg.backend.default_rng(1000).standard_normal((500, 100), dtype="float32")
    untrained = evaluate_samples(trainer.sample(500, z=z), real)
    steps = 0
    for x, _ in batches:  # 156 batches an epoch
        trainer.step(x)
        steps += 1
        if steps == LEARNING_STEPS:
            break
    trained = evaluate_samples(trainer.sample(500, z=z), real)
    summary = {k: (untrained[k], trained[k])
               for k in ("frechet_distance", "classes_present", "mean_confidence")}
    assert untrained["classes_present"] <= 2 and untrained["frechet_distance"] > 500, summary
    assert trained["frechet_distance"] < 0.5 * untrained["frechet_distance"], summary
    assert trained["classes_present"] >= 8, summary
    assert trained["mean_confidence"] > 0.55, summary


def test_a_non_finite_loss_stops_before_any_update():
    trainer = mlp_trainer()
    # a NaN arising inside D (a NaN in the real batch is refused up front by
    # Trainer.step: see test_validation.py); the layers' forward does not look for it
    trainer.D[-1].weight.data[0, 0] = np.nan
    before = parameters_of(trainer)
    with pytest.raises(mg.NonFiniteError, match=r"step 1: the discriminator's loss_real = nan"
                                                r".*the update was not applied"):
        trainer.step(real_batch())
    for a, b in zip(before, parameters_of(trainer)):
        np.testing.assert_array_equal(a, b)


def test_gradient_norm_of_huge_finite_float32_gradients_is_finite():
    """The squares are summed in float64: 1e20 squared overflows float32, the norm must not."""
    from minigan.gan.finite_state import grad_norm

    p = mg.nn.Parameter(np.zeros(2, dtype=np.float32))
    p.grad[...] = 1e20
    q = mg.nn.Parameter(np.zeros(3, dtype=np.float32))
    q.grad[...] = np.array([3.0, 4.0, 0.0], dtype=np.float32)
    assert grad_norm([p, q]) == pytest.approx(np.sqrt(2) * 1e20, rel=1e-7)
    assert grad_norm([q]) == 5.0


@pytest.mark.parametrize("call, message", [
    (lambda: mg.gan.ReplayBuffer(0), r"ReplayBuffer: need capacity > 0"),
    (lambda: mg.gradcheck.check_module(mg.nn.ReLU(), np.full((2, 2), 0.5), mode="x"),
     r"check_module: mode must be 'elementwise' or 'directional', got 'x'"),
])
def test_bad_options_raise_the_library_s_config_error(call, message):
    with pytest.raises(mg.errors.ConfigError, match=message):
        call()


def test_load_state_dict_is_all_or_nothing():
    """A state whose D part does not fit (one shape wrong) is refused and leaves the
    trainer exactly as it was: G is not restored while D fails."""
    from minigan.errors import StateError
    from minigan.gan import Trainer, build_models

    def fresh(seed):
        G, D = build_models("mlp", 8, rng=np.random.default_rng(seed))
        return Trainer(G, D, latent_dim=8, seed=seed)

    target, source = fresh(0), fresh(1)
    before = target.state_dict()
    state = source.state_dict()
    state["step_count"] = 5
    bad = dict(state)
    last = [k for k in bad if k.startswith("D.")][-1]
    bad[last] = np.zeros(bad[last].shape + (2,), bad[last].dtype)
    for broken in (bad, {k: v for k, v in state.items() if k != "opt_d.lr"},
                   {k: v for k, v in state.items() if k != "step_count"}):
        with pytest.raises(StateError):
            target.load_state_dict(broken)
        after = target.state_dict()
        assert after.keys() == before.keys()
        for key in before:
            assert np.array_equal(np.asarray(after[key]), np.asarray(before[key])), key
    target.load_state_dict(state)  # the good state still loads
    assert target.step_count == 5
