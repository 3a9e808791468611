"""Progressive growing (Karras et al. 2018): the networks at every stage, the growth
schedule, and the ProgressiveTrainer -- optimisers reset when layers join, real images
pooled and faded like the generator's, the stage snapshots, full-size samples, a resume in
the middle of a fade that continues bit for bit, all-or-nothing loading, and the errors.
The layers' gradients: tests/nn/test_resolution_layers.py, test_fade.py,
test_equalized_lr.py; the whole networks against PyTorch at every stage and mid-fade:
tests/parity/test_torch_parity_progressive.py; from the command line:
tests/cli/test_cli_progressive.py.
"""

import numpy as np
import pytest

import minigan as mg
from minigan.data import load_embedded_mnist, to_unit_range
from minigan.errors import ConfigError, ShapeError, StateError
from minigan.gan import (
    GrowthSchedule,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    ProgressiveTrainer,
)
from minigan.gan.progressive_trainer import SNAPSHOT_COUNT, real_at, reset_optimizer


def models(seed=0, latent_dim=8, **options):
    rng = mg.backend.default_rng(seed)
    return (ProgressiveGenerator(latent_dim, rng=rng),
            ProgressiveDiscriminator(rng=rng, **options))


def trainer(seed=0, stage_steps=2, **options):
    return ProgressiveTrainer(*models(seed), seed=seed, stage_steps=stage_steps, **options)


def digits(n=8):
    images, _ = load_embedded_mnist(quiet=True)
    return to_unit_range(images[::5000 // n][:n])


# -- the networks ---------------------------------------------------------------------

def test_every_stage_has_its_resolution_and_each_parameter_appears_once(array_backend):
    G, D = models(minibatch_stddev=True)
    names = [name for name, _ in G.named_parameters()]
    assert names[:4] == ["base.1.weight", "base.1.bias", "to_image_7.0.weight",
                         "to_image_7.0.bias"]
    assert len(names) == len(set(names)) == len({id(p) for p in G.parameters()}) == 12
    assert len({id(p) for p in D.parameters()}) == len(D.parameters()) == 14
    z = mg.backend.default_rng(1).standard_normal((3, 8), dtype="float32")
    for stage, alpha in [(0, 1.0), (1, 0.5), (1, 1.0), (2, 0.25), (2, 1.0)]:
        G.grow(stage, alpha)
        D.grow(stage, alpha)
        images = G(z)
        r = (7, 14, 28)[stage]
        assert images.shape == (3, r, r, 1) and images.dtype == np.float32
        assert float(abs(images).max()) <= 1          # tanh images, and their blend
        assert D(images).shape == (3, 1)
        assert D.backward(mg.backend.xp.ones((3, 1), dtype="float32")).shape == images.shape
        assert G.backward(mg.backend.xp.ones(images.shape, dtype="float32")).shape == z.shape
        assert (G.stage, G.alpha, G.resolution) == (stage, alpha, r)
    assert repr(G) == "ProgressiveGenerator(stage=2 (28x28), alpha=1)"
    G(z), D(G(z))                                       # a forward waiting for its backward
    assert [name for name, _ in G.named_parameters()] == names   # keeps no module as state
    assert len(D.state_dict()) == 14


def test_plain_and_equalized_networks_start_as_the_same_function():
    """The same N(0, 1) draws: He's initialisation stores c * draws, EqualizedLR stores the
    draws and multiplies by c at run time."""
    z = np.random.default_rng(0).standard_normal((4, 8)).astype("float32")
    for stage, alpha in [(0, 1.0), (1, 0.3), (2, 0.7)]:
        outputs = []
        for equalized in (False, True):
            rng = mg.backend.default_rng(3)
            G = ProgressiveGenerator(8, equalized_lr=equalized, rng=rng).grow(stage, alpha)
            D = ProgressiveDiscriminator(equalized_lr=equalized, rng=rng).grow(stage, alpha)
            outputs.append((G(z), D(G(z))))
        for plain, equalized in zip(*outputs):
            np.testing.assert_allclose(plain, equalized, rtol=1e-5, atol=1e-6)


def test_grow_checks_its_arguments():
    G, D = models()
    with pytest.raises(ConfigError, match=r"ProgressiveGenerator.grow: stage must be an int in "
                                          r"\[0, 2\] \(resolutions \(7, 14, 28\)\), got 3"):
        G.grow(3)
    with pytest.raises(ConfigError, match="ProgressiveDiscriminator.grow: alpha must be <= 1"):
        D.grow(1, 1.5)
    with pytest.raises(ConfigError, match="stage 0 has no fade, so alpha must be 1, got 0.5"):
        G.grow(0, 0.5)
    with pytest.raises(ShapeError, match=r"ProgressiveDiscriminator\(stage=0 \(7x7\), "
                                         r"alpha=1\): expected an input \(N, 7, 7, 1\) NHWC at "
                                         r"this stage, got shape \(2, 14, 14, 1\)"):
        D(np.zeros((2, 14, 14, 1), dtype="float32"))
    with pytest.raises(ShapeError, match=r"ProgressiveGenerator\(stage=0 \(7x7\), alpha=1\): "
                                         r"expected an input \(N, 8\) at this stage, got shape "
                                         r"\(2, 9\)"):
        G(np.zeros((2, 9), dtype="float32"))
    with pytest.raises(ConfigError, match="ProgressiveGenerator: equalized_lr must be True or "
                                          "False, got 1"):
        ProgressiveGenerator(equalized_lr=1)


# -- the schedule -----------------------------------------------------------------------

def test_the_schedule_fades_each_stage_in_linearly_then_stabilises():
    schedule = GrowthSchedule(stage_steps=3)
    steps = []
    for _ in range(14):
        grown = schedule.advance()
        steps.append((schedule.stage, schedule.alpha, schedule.phase, grown, schedule.ended()))
    third = 1 / 3
    assert [s[:2] for s in steps] == [(0, 1.0)] * 3 + [
        (1, third), (1, 2 * third), (1, 1.0), (1, 1.0), (1, 1.0), (1, 1.0),
        (2, third), (2, 2 * third), (2, 1.0), (2, 1.0), (2, 1.0)]
    assert [s[2] for s in steps] == ["stabilise"] * 3 + ["fade"] * 3 + ["stabilise"] * 3 + \
        ["fade"] * 3 + ["stabilise"] * 2
    assert [i + 1 for i, s in enumerate(steps) if s[3]] == [4, 10]        # new stages
    assert [i + 1 for i, s in enumerate(steps) if s[4]] == [3, 9]         # stages ended


def test_a_state_the_schedule_cannot_reach_is_refused():
    schedule = GrowthSchedule(stage_steps=4)
    for state, why in [({"stage": 3, "stage_step": 1, "alpha": 1.0}, "expected a stage in"),
                       ({"stage": 1, "stage_step": 2, "alpha": 0.7}, "is not a state"),
                       ({"stage": 0, "stage_step": 5, "alpha": 1.0}, "is not a state"),
                       ({"stage": 1, "stage_step": 0, "alpha": 1.0}, "is not a state"),
                       ({"stage": 1, "stage_step": 2}, "the state has no 'alpha'")]:
        with pytest.raises(StateError, match=why):
            schedule.load_state_dict(state)
    assert schedule.state_dict() == {"stage": 0, "stage_step": 0, "alpha": 1.0}
    schedule.load_state_dict({"stage": 1, "stage_step": 2, "alpha": 0.5})
    assert schedule.next() == (1, 3, 0.75, False)


# -- the trainer ----------------------------------------------------------------------

def test_real_images_are_pooled_and_faded_like_the_generator_s():
    x = digits(4)
    pool = lambda a, k: mg.functional.avg_pool2d_forward(a, k)[0]  # noqa: E731
    up = lambda a: mg.functional.upsample_nearest_forward(a, 2)[0]  # noqa: E731
    np.testing.assert_allclose(real_at(x, 0, 1.0), pool(pool(x, 2), 2), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(real_at(x, 2, 1.0), x)
    fourteen = pool(x, 2)
    np.testing.assert_allclose(real_at(x, 1, 0.25), 0.25 * fourteen + 0.75 * up(pool(fourteen, 2)),
                               rtol=1e-6, atol=1e-6)


def test_each_step_trains_at_the_schedule_s_stage_and_optimisers_restart_when_layers_join():
    t = trainer(stage_steps=2)
    seen = []
    t.D.forward = lambda x, forward=t.D.forward: (seen.append(x.shape[1]), forward(x))[1]
    records = [t.step(digits()) for _ in range(7)]
    assert [(r["stage"], r["resolution"], r["alpha"]) for r in records] == [
        (0, 7, 1.0), (0, 7, 1.0), (1, 14, 0.5), (1, 14, 1.0), (1, 14, 1.0), (1, 14, 1.0),
        (2, 28, 0.5)]
    assert set(seen[:6]) == {7} and set(seen[-3:]) == {28}  # 3 D passes a step
    # Adam's step count restarted at steps 3 and 7, when new layers joined
    assert (t.opt_g.t, t.opt_d.t) == (1, 1)
    del t.D.forward


@pytest.mark.parametrize("options", [{}, {"equalized_lr": True, "minibatch_stddev": True}])
def test_growing_through_every_stage_on_each_backend(array_backend, options):
    """Seven steps of stage_steps 2 (7x7, the 14x14 fade and stabilisation, the 28x28 fade)
    on device arrays: on the strict backend any silent trip to the host fails; the
    networks end at 28x28 mid-fade, learn, and sample full-size images."""
    xp = array_backend
    rng = mg.backend.default_rng(0)
    G = ProgressiveGenerator(8, equalized_lr=bool(options), rng=rng)
    t = ProgressiveTrainer(G, ProgressiveDiscriminator(rng=rng, **options), seed=0,
                           stage_steps=2)
    real = xp.asarray(digits())
    dense = t.G.base[1].layer if options else t.G.base[1]   # G's first Dense (or its wrap)
    first = mg.backend.to_numpy(dense.weight.data).copy()
    records = [t.step(real) for _ in range(7)]
    assert [(r["resolution"], r["alpha"]) for r in records][-1] == (28, 0.5)
    assert all(np.isfinite(r["loss_d"]) and np.isfinite(r["loss_g"]) for r in records)
    assert not np.array_equal(first, mg.backend.to_numpy(dense.weight.data))
    assert [r for r, _ in t.stage_snapshots()] == [7, 14]
    assert t.sample(3).shape == (3, 28, 28, 1)


def test_reset_optimizer_zeroes_moments_and_counts_and_keeps_the_learning_rate():
    t = trainer()
    t.step(digits())
    reset_optimizer(t.opt_g)
    state = t.opt_g.state_dict()
    assert state["t"] == 0 and state["lr"] == 2e-4
    assert all(not v.any() for k, v in state.items() if k[:2] in ("m.", "v."))


def test_snapshots_keep_the_fixed_z_at_the_end_of_each_stage_and_samples_are_full_size():
    t = trainer(stage_steps=1)
    t.step(digits())                                   # stage 0 (7x7) ends here
    [(r, snapshot)] = t.stage_snapshots()
    expected = t.G.forward(t.snapshot_z)               # no BatchNorm: eval = train
    assert r == 7 and snapshot.shape == (SNAPSHOT_COUNT, 7, 7, 1)
    np.testing.assert_array_equal(snapshot, expected)
    native = t.sample(3, z=t.snapshot_z[:3], native=True)
    full = t.sample(3, z=t.snapshot_z[:3])
    assert native.shape == (3, 7, 7, 1) and full.shape == (3, 28, 28, 1)
    np.testing.assert_array_equal(full, native.repeat(4, axis=1).repeat(4, axis=2))
    t.step(digits())                                   # stage 1's fade moves G on ...
    np.testing.assert_array_equal(t.stage_snapshots()[0][1], snapshot)   # ... not the snapshot
    assert t.describe() == "14x14, alpha 1.00 (fade)"


def state_on_host(t):
    return {k: mg.backend.to_numpy(v) if hasattr(v, "shape") else v
            for k, v in t.state_dict().items()}


def test_a_resume_in_the_middle_of_a_fade_continues_bit_for_bit():
    """Stage steps 3: steps 4-6 fade in 14x14 (alpha 1/3, 2/3, 1), 10-12 fade in 28x28.
    11 steps straight, and 5 steps (mid-fade, alpha 2/3) then a state_dict round trip
    through host NumPy into a trainer built from other weights, then 6 more (through the
    next stage's start, to the middle of its fade): every array of the state -- weights,
    both Adam states, the schedule's counters, the snapshots -- and the samples are the
    same bits."""
    real = digits()
    straight = trainer(seed=5, stage_steps=3)
    for _ in range(11):
        straight.step(real)
    first = trainer(seed=5, stage_steps=3)
    for _ in range(5):
        first.step(real)
    middle = state_on_host(first)
    assert (middle["growth.stage"], middle["growth.alpha"]) == (1, 2 / 3)
    resumed = trainer(seed=99, stage_steps=3)
    resumed.load_state_dict(middle)
    assert (resumed.G.stage, resumed.G.alpha, resumed.D.alpha) == (1, 2 / 3, 2 / 3)
    for _ in range(6):
        resumed.step(real)
    a, b = state_on_host(straight), state_on_host(resumed)
    assert a.keys() == b.keys() and a["growth.stage"] == 2 and a["growth.alpha"] == 2 / 3
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert a["growth.snapshot_14"].any() and a["growth.snapshot_7"].any()
    z = straight.noise(4, stream=9)
    np.testing.assert_array_equal(resumed.sample(4, z=z), straight.sample(4, z=z))


def test_loading_a_state_the_schedule_cannot_reach_changes_nothing():
    t = trainer(stage_steps=2)
    for _ in range(3):
        t.step(digits())
    good = state_on_host(t)
    other = trainer(seed=1, stage_steps=2)
    before = state_on_host(other)
    for key, value, message in [("growth.alpha", 0.9, "is not a state of this schedule"),
                                ("growth.snapshot_7", np.zeros((2, 7, 7, 1)),
                                 r"'growth.snapshot_7' must be an array of shape \(8, 7, 7, 1\)")]:
        with pytest.raises(StateError, match=message):
            other.load_state_dict({**good, key: value})
        after = state_on_host(other)
        assert all(np.array_equal(after[k], before[k]) for k in before)
        assert (other.G.stage, other.G.alpha) == (0, 1.0)


def test_a_failed_step_leaves_the_schedule_and_the_networks_where_they_were():
    t = trainer(stage_steps=1)
    t.step(digits())
    bad = digits()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(mg.NonFiniteError):
        t.step(bad)                                    # would have been stage 1's first step
    assert (t.schedule.stage, t.G.stage, t.D.stage, t.step_count) == (0, 0, 0, 1)


def test_trainer_errors():
    G, D = models()
    with pytest.raises(ConfigError, match="ProgressiveTrainer: expected a ProgressiveGenerator "
                                          "and a ProgressiveDiscriminator, got Sequential"):
        ProgressiveTrainer(mg.gan.dcgan_generator(), D, stage_steps=2)
    with pytest.raises(ConfigError, match="ProgressiveTrainer: replay_size must be 0"):
        ProgressiveTrainer(G, D, stage_steps=2, replay_size=8)
    with pytest.raises(ConfigError, match="GrowthSchedule: stage_steps must be a positive int"):
        ProgressiveTrainer(G, D, stage_steps=0)
    with pytest.raises(ConfigError, match="Trainer: D is ProgressiveDiscriminator.*which has no "
                                          "double backward"):
        ProgressiveTrainer(G, D, loss="wgan-gp", stage_steps=2)
    t = ProgressiveTrainer(G, D, stage_steps=2)
    with pytest.raises(ShapeError, match=r"ProgressiveTrainer.step: real must be full-size "
                                         r"images \(N, 28, 28, C\) NHWC .* got shape "
                                         r"\(4, 14, 14, 1\)"):
        t.step(np.zeros((4, 14, 14, 1), dtype="float32"))
