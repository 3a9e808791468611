"""The Trainer with gradient penalties: "wgan-gp" and r1.

One critic step is replayed by hand from the public pieces -- the objective's two terms,
``D.backward``, ``gradient_penalty`` / ``r1_penalty`` on the same inputs, Adam -- and
must give the trainer's parameters to the last bit's neighbourhood (float64). The numbers
a step reports, the checks on the arguments, and a short run on the strict backend.
"""

import numpy as np
import pytest

import minigan as mg
from minigan.errors import ConfigError
from minigan.gan.noise_streams import D_INTERPOLATION, D_NOISE, d_stream, stream_rng
from minigan.gan.trainer import Trainer
from minigan.optim import Adam


def small_models(seed=0, dtype="float64"):
    """A 6x6 generator and a LayerNorm critic in the pattern of dcgan_critic."""
    rng = mg.backend.default_rng(seed)
    kw = {"dtype": dtype, "rng": rng}
    G = mg.gan.mlp_generator(4, hidden=(8,), image_shape=(6, 6, 1), **kw)
    D = mg.nn.Sequential(
        mg.nn.Conv2d(1, 3, 3, stride=2, padding=1, **kw), mg.nn.LeakyReLU(0.2),
        mg.nn.LayerNorm((3, 3, 3), dtype=dtype), mg.nn.LeakyReLU(0.2), mg.nn.Flatten(),
        mg.nn.Dense(27, 1, **kw))
    return G, D


def real_batch(n=5, seed=1):
    return mg.backend.default_rng(seed).uniform(-1, 1, (n, 6, 6, 1))


def replay_critic_step(trainer, G, D, real, penalty):
    """What one D step of ``trainer`` (its first step, d_steps=1) should do, by hand."""
    objective, n = trainer.objective, real.shape[0]
    opt = Adam(D.parameters(), lr=trainer.opt_d.lr, betas=trainer.opt_d.betas)
    rng = stream_rng(trainer.seed, trainer.step_count, d_stream(0) + D_NOISE)  # as the trainer
    fake = G.forward(rng.standard_normal((n, 4), dtype=real.dtype))
    D.zero_grad()
    D.backward(objective.d_real(D.forward(real), trainer.real_label)[1])
    value = penalty(D, real, fake)
    D.backward(objective.d_fake(D.forward(fake), trainer.fake_label)[1])
    opt.step()
    return value


def assert_same_parameters(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-15)


def test_a_wgan_gp_critic_step_is_the_objective_plus_the_penalty_on_interpolates():
    G, D = small_models()
    trainer = Trainer(G, D, loss="wgan-gp", lr_d=1e-3, betas=(0.0, 0.9), seed=3)
    G2, D2 = small_models()
    real = real_batch()

    def penalty(D, real, fake):
        eps = stream_rng(trainer.seed, trainer.step_count,
                         d_stream(0) + D_INTERPOLATION).random((real.shape[0], 1, 1, 1))
        return mg.gan.gradient_penalty(D, eps * real + (1 - eps) * fake, weight=10.0)

    expected = replay_critic_step(trainer, G2, D2, real, penalty)
    stats = trainer.step(real)
    assert_same_parameters(D, D2)
    assert stats["penalty"] == pytest.approx(expected, rel=1e-12)
    assert stats["loss_d"] == pytest.approx(stats["loss_d_real"] + stats["loss_d_fake"]
                                            + stats["penalty"], rel=1e-12)
    assert stats["wasserstein"] == pytest.approx(stats["d_real"] - stats["d_fake"])
    assert stats["grad_norm_x"] > 0


def test_an_r1_critic_step_is_the_bce_loss_plus_the_penalty_on_the_real_batch():
    G, D = small_models()
    trainer = Trainer(G, D, loss="non-saturating", real_label=0.9, r1=5.0, seed=4)
    G2, D2 = small_models()
    real = real_batch()
    expected = replay_critic_step(trainer, G2, D2, real,
                                  lambda D, real, fake: mg.gan.r1_penalty(D, real, gamma=5.0))
    stats = trainer.step(real)
    assert_same_parameters(D, D2)
    assert stats["penalty"] == pytest.approx(expected, rel=1e-12)
    norms = np.sqrt((mg.gan.input_gradient(D2, real) ** 2).reshape(5, -1).sum(axis=1))
    assert "wasserstein" not in stats and stats["grad_norm_x"] > 0
    assert np.isfinite(norms).all()


def test_the_plain_wgan_critic_reports_its_wasserstein_estimate_and_no_penalty():
    stats = Trainer(*small_models(), loss="wgan", seed=0).step(real_batch())
    assert stats["wasserstein"] == pytest.approx(stats["d_real"] - stats["d_fake"])
    assert "penalty" not in stats


def test_the_penalty_pulls_the_critics_input_gradient_towards_one():
    """A critic that starts with ||grad_x D|| ~ 68 on the interpolates, trained against a
    fixed G (lr_g = 0) for 300 steps, ends with it near 1."""
    G, D = small_models(seed=5)
    for p in D.parameters():
        p.data *= 4                                   # start far from norm 1
    trainer = Trainer(G, D, loss="wgan-gp", lr_d=2e-2, lr_g=0.0, betas=(0.0, 0.9), seed=5)
    real = real_batch(16, seed=6)
    norms = [trainer.step(real)["grad_norm_x"] for _ in range(300)]
    assert norms[0] > 50 and abs(np.mean(norms[-20:]) - 1) < 0.15, (norms[0], norms[-20:])


@pytest.mark.parametrize("make, message", [
    (lambda: Trainer(mg.gan.dcgan_generator(), mg.gan.dcgan_discriminator(), loss="wgan-gp"),
     r"Trainer: D\[3\] is BatchNorm2d\(128.*mixes the samples"),
    (lambda: Trainer(*small_models(), loss="wgan", r1=1.0),
     r"Trainer: r1=1.0 is offered with the BCE objectives.*got loss='wgan'"),
    (lambda: Trainer(*small_models(), loss="wgan-gp", r1=1.0),
     r"got loss='wgan-gp'"),
    (lambda: Trainer(*small_models(), r1=-1.0), r"Trainer: r1 must be >= 0, got -1.0"),
    (lambda: Trainer(mg.gan.mlp_generator(), mg.gan.mlp_discriminator(minibatch_stddev=True),
                     r1=10.0), r"Trainer: D\[\d\] is MinibatchStdDev"),
])
def test_a_penalty_the_critic_cannot_take_is_refused_at_construction(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_wgan_gp_steps_run_on_the_strict_backend(array_backend):
    G, D = small_models(dtype="float32")
    trainer = Trainer(G, D, loss="wgan-gp", d_steps=2, seed=0)
    real = real_batch().astype("float32")
    for _ in range(2):
        stats = trainer.step(real)
    assert all(np.isfinite(stats[k]) for k in ("penalty", "grad_norm_x", "wasserstein"))


def test_dcgan_critic_is_the_dcgan_discriminator_with_layer_norm(tmp_path):
    critic, plain = mg.gan.dcgan_critic(), mg.gan.dcgan_discriminator()
    assert [type(m).__name__ for m in critic] == [
        "Conv2d", "LeakyReLU", "Conv2d", "LayerNorm", "LeakyReLU", "Flatten", "Dense"]
    assert critic[3].normalized_shape == (7, 7, 128)
    for a, b in zip(critic, plain):
        assert type(a) is type(b) or (type(a), type(b)) == (mg.nn.LayerNorm, mg.nn.BatchNorm2d)
    x = mg.backend.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    assert critic(x).shape == (3, 1) and mg.gan.gradient_penalty(critic, x) > 0
    G, D = mg.gan.build_models("dcgan", critic=True)
    assert isinstance(D[3], mg.nn.LayerNorm)
    G, D = mg.gan.build_models("mlp", critic=True)
    assert not any(isinstance(m, mg.nn.BatchNorm1d) for m in D.modules())
    for options in ({"model": "conditional"}, {"model": "dcgan", "spectral_norm": True}):
        with pytest.raises(ConfigError, match="a critic for a gradient penalty"):
            mg.gan.build_models(critic=True, **options)


def test_the_curves_get_a_third_panel_for_a_critic(tmp_path):
    """3 panels of 3.5 inches at 100 dpi: 1050 pixels high; 2 panels: 700; 10 inches (the
    legends right of the axes) wide: 1000."""
    import struct

    for options, height in (({"loss": "wgan-gp"}, 1050), ({"r1": 1.0}, 1050), ({}, 700)):
        trainer = Trainer(*small_models(), seed=0, **options)
        records = [trainer.step(real_batch()) for _ in range(3)]
        path = mg.plots.plot_training_curves(records, str(tmp_path / "curves.png"))
        data = open(path, "rb").read(24)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (1000, height), options


def test_build_models_draws_the_generator_first_whatever_the_critic():
    """The weights of build_models("dcgan") did not move when the critic option came: G is
    drawn from the generator first, then D (a plain run is what it was)."""
    G, D = mg.gan.build_models("dcgan", rng=mg.backend.default_rng(7))
    G_alone = mg.gan.dcgan_generator(rng=mg.backend.default_rng(7))
    for p, q in zip(G.parameters(), G_alone.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    rng = mg.backend.default_rng(7)
    mg.gan.dcgan_generator(rng=rng)
    for p, q in zip(D.parameters(), mg.gan.dcgan_discriminator(rng=rng).parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_wgan_gp_learns_digits_of_most_classes_in_80_steps():
    """The CI version of the long WGAN-GP run (test_long_training_wgan_gp.py): 80 steps of
    batch 16 on the embedded sample, 1 critic step each, Adam(2e-4, (0, 0.9)), lambda 10.
    Scored as in test_trainer.py's DCGAN version (500 samples from fixed noise against 500
    real digits): the Fréchet distance falls below 0.4 of its value at initialisation, at
    least 8 classes appear, and the penalty holds the critic's input-gradient norm near 1.
    (Measured, seeds 0-2: FD ~843 -> 250-253, 9-10 classes, confidence 0.70, mean
    ||grad_x D|| 1.2-1.4 at the last step.)"""
    from minigan.data import Batches, load_embedded_mnist, to_unit_range
    from minigan.metrics import evaluate_samples

    images, _ = load_embedded_mnist(quiet=True)
    real = to_unit_range(images[::10])
    trainer = Trainer(mg.gan.dcgan_generator(rng=mg.backend.default_rng(0)),
                      mg.gan.dcgan_critic(rng=mg.backend.default_rng(1)), loss="wgan-gp",
                      lr_d=2e-4, lr_g=2e-4, betas=(0.0, 0.9), d_steps=1, seed=0)
    z = mg.backend.default_rng(1000).standard_normal((500, 100), dtype="float32")
    untrained = evaluate_samples(trainer.sample(500, z=z), real)
    for step, (x, _) in enumerate(Batches(images, batch_size=16, seed=0), start=1):
        stats = trainer.step(x)
        if step == 80:
            break
    trained = evaluate_samples(trainer.sample(500, z=z), real)
    summary = {k: (untrained[k], trained[k])
               for k in ("frechet_distance", "classes_present", "mean_confidence")}
    assert untrained["frechet_distance"] > 500, summary
    assert trained["frechet_distance"] < 0.4 * untrained["frechet_distance"], summary
    assert trained["classes_present"] >= 8 and trained["mean_confidence"] > 0.6, summary
    assert 0.8 < stats["grad_norm_x"] < 2.0, stats
