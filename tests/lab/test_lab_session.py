"""The GAN lab's session, without a server: the arrows are the trainer's own gradient,
settings are checked and applied (or refused, changing nothing), a NaN pauses the run,
memory stays bounded, and every data set, loss and remedy trains and draws."""

import math
import time

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan import backend
from minigan.errors import ConfigError
from minigan.gan import Trainer
from minigan.inspect import preserved
from minigan.lab import LabSession, datasets, frame, settings, watch
from minigan.lab import session as lab_session


def small(**changes):
    """A quick session: batch 64, a 16 x 16 picture."""
    return LabSession({"batch_size": 64, **changes}, resolution=16)


def weights(module):
    return [p.data.copy() for p in module.parameters()]


def test_the_arrows_are_what_D_backward_handed_to_the_generator():
    s = small()
    s.run_steps(3)
    s.train_step("both", picture=True)
    tap = s.last_tap
    # the same computation as the trainer's G step: the G step's fakes through the frozen D
    # (its weights did not change in the G step), D.backward of the objective's gradient
    D = s.trainer.D
    with preserved(D):
        D.freeze()
        out = D.forward(backend.to_device(tap.outputs["g"]))
        grad = D.backward(s.trainer.objective.g_loss(out)["grad_fake"])
    assert numpy.array_equal(backend.to_numpy(grad), tap.gradient)
    assert numpy.abs(tap.gradient).max() > 0
    shown = numpy.array(s.latest["arrows"])
    assert numpy.array_equal(shown, numpy.round(-tap.gradient.astype(float) * 64, 4))
    fakes = numpy.round(tap.outputs["g"].astype(float), 3)
    assert numpy.array_equal(numpy.array(s.latest["fake"]), fakes)


def test_the_arrows_of_a_D_step_are_the_next_G_steps_gradient():
    s = small()
    s.act("d_step")
    f = s.latest
    assert f["kind"] == "d" and "D step" in f["norms"] and "G step" not in f["norms"]
    fakes = numpy.array(f["fake"])
    expected = frame.g_arrows(s.trainer, s.last_tap.outputs["d_fake"].astype(float), 1)
    assert numpy.allclose(numpy.array(f["arrows"]), expected, atol=1e-4)  # rounded to 4 places
    assert fakes.shape == (64, 2)


def test_half_steps_update_one_player_each_and_advance_the_step():
    s = small()
    G0, D0 = weights(s.trainer.G), weights(s.trainer.D)
    s.act("d_step")
    assert all(numpy.array_equal(a, b) for a, b in zip(G0, weights(s.trainer.G)))
    assert not all(numpy.array_equal(a, b) for a, b in zip(D0, weights(s.trainer.D)))
    assert s.trainer.step_count == 1
    D1 = weights(s.trainer.D)
    s.act("g_step")
    assert all(numpy.array_equal(a, b) for a, b in zip(D1, weights(s.trainer.D)))
    assert not all(numpy.array_equal(a, b) for a, b in zip(G0, weights(s.trainer.G)))
    assert s.trainer.step_count == 2 and s.latest["kind"] == "g"
    with pytest.raises(ConfigError, match="update must be"):
        s.trainer.step(backend.xp.zeros((4, 2), dtype="float32"), update="x")


def test_a_slow_step_shows_D_then_G():
    s = small().start()
    try:
        s.act("slow_step")
        assert s.latest["kind"] == "d"
        deadline = time.monotonic() + 20   # the G half comes SLOW_PAUSE later
        while s.latest["kind"] != "g" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert s.latest["kind"] == "g" and s.trainer.step_count == 2
    finally:
        s.close()


def test_a_change_of_shapes_restarts_and_any_other_continues():
    s = small()
    s.run_steps(3)
    G, t = s.trainer.G, s.trainer.opt_d.t
    before = weights(G)
    answer = s.update({"loss": "minimax", "lr_g": 5e-4, "k": 2})
    assert not answer["restarted"] and "continued" in answer["message"]
    assert s.trainer.G is G and s.trainer.opt_d.t == t and s.trainer.opt_g.lr == 5e-4
    assert s.trainer.d_steps == 2 and s.trainer.step_count == 3
    assert all(numpy.array_equal(a, b) for a, b in zip(before, weights(G)))
    answer = s.update({"latent_dim": 1})
    assert answer["restarted"] and "latent_dim" in answer["message"]
    assert s.trainer.G is not G and s.trainer.step_count == 0
    assert len(s.latest["manifold"]) == 1 and len(s.latest["manifold"][0]) == 121


@pytest.mark.parametrize("changes, message", [
    ({"lr_d": 0}, "lr_d: expected a learning rate"),
    ({"lr_d": float("nan")}, "lr_d"),
    ({"k": 0}, "k: expected an integer"),
    ({"k": True}, "k: expected an integer"),
    ({"loss": "gan"}, "loss: expected one of"),
    ({"data": "spiral"}, "data: expected one of"),
    ({"colour": 1}, "unknown setting 'colour'"),
    ({"r1": True, "loss": "hinge"}, "r1: the R1 penalty is for the BCE losses"),
    ({"gradient_penalty": True}, "gradient_penalty: WGAN-GP's penalty is for the WGAN"),
    ({"r1": True, "minibatch_stddev": True}, "a gradient penalty"),
    ({"label_smoothing": "yes"}, "expected true or false"),
])
def test_a_bad_setting_is_refused_and_changes_nothing(changes, message):
    s = small()
    s.run_steps(2)
    before = (dict(s.settings), s.trainer, weights(s.trainer.D), s.latest)
    with pytest.raises(ConfigError, match=message):
        s.update(changes)
    assert (s.settings, s.trainer, s.latest) == (before[0], before[1], before[3])
    assert all(numpy.array_equal(a, b) for a, b in zip(before[2], weights(s.trainer.D)))


def test_the_gradient_penalty_switch_is_the_wgan_loss_with_or_without_it():
    new = settings.validate(settings.DEFAULTS, {"loss": "wgan"})
    assert not new["gradient_penalty"]
    assert settings.validate(new, {"gradient_penalty": True})["loss"] == "wgan-gp"
    assert settings.validate(new, {"loss": "wgan-gp"})["gradient_penalty"]


def test_a_nan_pauses_the_run_and_says_so_without_updating():
    s = small()
    s.running = True
    s.trainer.G.parameters()[0].data[0, 0] = numpy.nan
    D = weights(s.trainer.D)
    assert s.train_step("both", picture=True) is False
    assert not s.running and s.message.startswith("paused: step 1")
    assert "update was not applied" in s.message
    assert all(numpy.array_equal(a, b) for a, b in zip(D, weights(s.trainer.D)))
    s.act("reset")
    assert s.message == "" and s.trainer.step_count == 0


def test_memory_is_bounded_however_long_it_runs():
    s = LabSession({"batch_size": 16}, history=4, curve_points=10, resolution=8)
    s.run_steps(200, pictures=8)
    assert len(s.frames) == 4
    curve = s.state()["curves"]
    assert 5 <= len(curve) <= 10
    steps = [c["step"] for c in curve]
    assert steps == sorted(steps) and steps[0] == 1 and steps[-1] > 150


@given(st.integers(1, 60), st.integers(1, 500))
def test_curves_keep_at_most_their_capacity_and_the_first_point(capacity, n):
    c = watch.Curves(max(capacity, 2))
    for i in range(n):
        c.add(i)
    assert len(c.points) < max(capacity, 2) and c.points[0] == 0
    assert all(p % c.stride == 0 for p in c.points)


PAIRS = [("ring", "non-saturating"), ("grid", "lsgan"), ("line", "hinge"),
         ("moons", "wgan-gp"), ("points", "minimax")]
ALL_PAIRS = [(d, loss) for d in datasets.NAMES for loss in settings.LOSSES]


@pytest.mark.parametrize("data, loss", PAIRS + [
    pytest.param(d, loss, marks=pytest.mark.slow) for d, loss in ALL_PAIRS
    if (d, loss) not in PAIRS])
def test_every_data_set_and_loss_trains_and_draws(data, loss):
    s = small(data=data, loss=loss)
    s.run_steps(3)
    s.train_step("both", picture=True)
    f = s.latest
    assert f["step"] == 4 and f["data"]["name"] == data
    assert len(f["surface"]) == 16 * 16 and all(v is not None for v in f["surface"])
    assert (f["d_star"] is None) == (loss in ("hinge", "wgan", "wgan-gp"))
    bce = loss in ("non-saturating", "minimax")
    assert f["surface_kind"] == ("probability" if bce else "score")
    assert all(math.isfinite(v) for v in (f["stats"]["loss_d"], f["stats"]["loss_g"]))


@pytest.mark.parametrize("remedy", ["label_smoothing", "instance_noise", "minibatch_stddev",
                                    "spectral_norm", "r1"])
def test_every_remedy_trains_and_draws(remedy):
    s = small()
    answer = s.update({remedy: True})
    assert answer["restarted"] == (remedy in settings.RESTART_KEYS)
    s.run_steps(2)
    s.train_step("both", picture=True)
    assert math.isfinite(s.latest["stats"]["loss_d"]) and s.latest["arrows"]
    if remedy == "label_smoothing":
        assert s.trainer.real_label == settings.LABEL_SMOOTHING
    if remedy == "r1":
        assert s.trainer.r1 == settings.R1_GAMMA and "penalty" in s.last_stats


@pytest.mark.skipif(not lab_session.packing_available(), reason="Trainer has no pack option")
def test_packing_judges_two_samples_at_once():
    s = small()
    assert s.update({"packing": True})["restarted"]
    assert s.trainer.D.parameters()[0].data.shape[0] == 4 and s.pack == 2
    s.run_steps(2)
    s.train_step("both", picture=True)
    assert len(s.latest["arrows"]) == 64 and math.isfinite(s.latest["stats"]["loss_g"])


def test_sgd_replaces_both_optimizers():
    s = small()
    s.update({"optimizer": "sgd", "lr_d": 0.05})
    assert type(s.trainer.opt_d).__name__ == "SGD" and s.trainer.opt_d.lr == 0.05
    s.run_steps(2)
    assert isinstance(s.trainer, Trainer) and s.trainer.step_count == 2


def test_clicked_points_become_the_data():
    s = small()
    s.set_points([[0.5, 0.5], [-0.5, 1.0]])
    assert s.settings["data"] == "points" and s.data.means.tolist() == [[0.5, 0.5], [-0.5, 1.0]]
    s.run_steps(2)
    for bad, message in [([], "1 to 200 points"), ([[0, 3]], r"\[-2.0, 2.0\]"),
                         ([[0, "a"]], "two numbers"), ("x", "got str")]:
        with pytest.raises(ConfigError, match=message):
            s.set_points(bad)
        assert s.data.means.tolist() == [[0.5, 0.5], [-0.5, 1.0]]


# -- the data sets and D* ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["ring", "grid", "line", "moons", "points"])
def test_each_density_integrates_to_one_and_matches_its_samples(name):
    data = datasets.make(name)
    x0, x1, y0, y1 = data.extent
    n = 160
    xs, ys = numpy.linspace(x0, x1, n), numpy.linspace(y0, y1, n)
    gx, gy = numpy.meshgrid(xs, ys)
    p = data.pdf(numpy.stack([gx.ravel(), gy.ravel()], 1))
    # the extent holds every mode with a margin of > 3 std: the mass outside is < 1e-3;
    # the Riemann sum of a Gaussian on a step <= std / 2 (std >= 0.05, step <= 0.025 but
    # 0.069 for the grid's std 0.1) is exact far below 1e-3
    assert abs(p.sum() * (xs[1] - xs[0]) * (ys[1] - ys[0]) - 1) < 3e-3
    samples = data.sample(20000, numpy.random.default_rng(1))
    assert numpy.allclose(samples.mean(0), data.means.mean(0), atol=0.05)


def test_binned_kde_is_the_kernel_density_estimate_to_within_its_binning():
    data = datasets.ring()
    samples = data.sample(3000, numpy.random.default_rng(2))
    points = frame.plane(data.extent, 48)
    h = 0.15
    binned = frame.binned_kde(samples, data.extent, 48, h)
    d2 = ((points[:, None, :] - samples[None]) ** 2).sum(2)
    direct = numpy.exp(-d2 / (2 * h * h)).sum(1) / (len(samples) * 2 * math.pi * h * h)
    # linear binning on cells of width c = 0.067 moves mass by at most c/2: the error is
    # about (c / h)^2 / 8 ~ 2.5 % of the peak density
    assert numpy.abs(binned - direct).max() < 0.05 * direct.max()


def test_D_star_is_one_half_where_G_samples_the_data_itself():
    data = datasets.ring()
    points = frame.plane(data.extent, 48)
    p = data.pdf(points)
    dense, far = p > 0.2 * p.max(), p < 1e-12
    assert dense.sum() > 20
    d_star = frame.optimal_discriminator(
        data, data.sample(20000, numpy.random.default_rng(3)), points, 48)
    # both densities are seen through the same kernel: only sampling noise is left, the
    # KDE's relative error at a mode's centre ~ 1/sqrt(samples within a bandwidth ~ 2000)
    assert numpy.abs(d_star[dense] - 0.5).max() < 0.06
    assert numpy.all(d_star[far] <= 0.5)   # never "real" where the data has no mass
    # a G that covers half of the ring: D* -> 1 on the modes it misses
    samples = data.sample(20000, numpy.random.default_rng(4))
    half = samples[samples[:, 1] > 0.2]
    d_star = frame.optimal_discriminator(data, half, points, 48)
    missed = dense & (points[:, 1] < -0.3)
    assert missed.sum() > 5 and d_star[missed].min() > 0.99


def test_a_recorded_array_with_nan_gives_nan_norms_and_finite_percentiles():
    from minigan.inspect import Tensor

    t = Tensor.of(numpy.array([[1.0, numpy.nan], [2.0, 3.0]]))
    assert math.isnan(t.norm) and t.percentiles[50] == 2.0 and t.histogram[0].sum() == 3
    t = Tensor.of(numpy.array([[numpy.nan]]))
    assert math.isnan(t.percentiles[50]) and t.histogram[0].sum() == 0


@pytest.mark.parametrize("changes", [{}, {"minibatch_stddev": True}, {"loss": "wgan-gp"}])
def test_the_lab_runs_on_every_backend(array_backend, changes):
    """Host arrays only at the edges (data in, pictures out): the strict backend refuses a
    stray NumPy call on a device array, as CuPy would."""
    s = small(**changes)
    s.run_steps(2)
    s.act("d_step")
    s.train_step("both", picture=True, norms=not changes.get("loss"))
    f = s.latest
    assert f["step"] == 4 and len(f["arrows"]) == 64
    assert all(v is not None for v in f["surface"])
    assert math.isfinite(f["stats"]["loss_g"])
