"""minigan.inspect: recording a step changes nothing, the recorded gradients are the right
ones, saliency is dD/dx, the plots are written, and `minigan train --inspect-every`."""

import copy
import json
import types

import numpy as np
import pytest
from cli_rows import training_numbers

import minigan as mg
from minigan import nn
from minigan.errors import ConfigError
from minigan.gan import Trainer
from minigan.inspect import Recorder, generator_gradient, inspect_step, saliency
from minigan.inspect.plots import write_step_report

PNG = b"\x89PNG\r\n\x1a\n"


def tiny_models(seed=0):
    """Small float64 G and D on 8x8 images, with BatchNorm in both (batch statistics)."""
    rng = mg.backend.default_rng(seed)
    G = nn.Sequential(nn.Dense(4, 32, dtype="float64", rng=rng),
                      nn.BatchNorm1d(32, dtype="float64"), nn.ReLU(),
                      nn.Dense(32, 64, dtype="float64", rng=rng), nn.Tanh(), nn.Reshape(8, 8, 1))
    D = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1, dtype="float64", rng=rng),
                      nn.BatchNorm2d(4, dtype="float64"), nn.LeakyReLU(0.2), nn.Flatten(),
                      nn.Dense(64, 1, dtype="float64", rng=rng))
    return G, D


def tiny_trainer(seed=0, **options):
    G, D = tiny_models(seed)
    return Trainer(G, D, seed=seed, **options)


def real_batch(n=6, seed=1):
    return mg.backend.default_rng(seed).uniform(-1, 1, (n, 8, 8, 1))


def state_of(trainer):
    return {k: np.array(mg.backend.to_numpy(v)) for k, v in trainer.state_dict().items()}


def all_modules(model):
    yield model
    for child in model.children():
        yield from all_modules(child)


@pytest.mark.parametrize("options", [{}, {"d_steps": 2, "loss": "minimax"},
                                     {"instance_noise": 0.1, "replay_size": 8}])
def test_a_recorded_step_gives_bit_identical_parameters_and_stats(options):
    plain, recorded = tiny_trainer(**options), tiny_trainer(**options)
    for step in range(3):
        expected = plain.step(real_batch(seed=step))
        record = inspect_step(recorded, real_batch(seed=step))
        assert record.stats == expected
    a, b = state_of(plain), state_of(recorded)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    for model in (recorded.G, recorded.D):  # the wrappers are gone
        for module in all_modules(model):
            assert "forward" not in vars(module) and "backward" not in vars(module)


def test_conditional_models_are_recorded_and_unchanged():
    def make():
        rng = mg.backend.default_rng(0)
        G = mg.gan.conditional_generator(4, hidden=(8,), image_shape=(8, 8, 1),
                                         dtype="float64", rng=rng)
        D = mg.gan.conditional_discriminator(image_shape=(8, 8, 1), hidden=(8,),
                                             dtype="float64", rng=rng)
        return Trainer(G, D, seed=0)

    labels = np.arange(6) % 10
    plain, recorded = make(), make()
    expected = plain.step(real_batch(), labels)
    record = inspect_step(recorded, real_batch(), labels)
    assert record.stats == expected
    assert [layer.name for layer in record.layers("g", "D")][0] == "net.0"
    assert record.fake_labels.shape == (6,)
    assert record.generator_gradient.shape == (6, 8, 8, 1)


def test_phases_follow_the_call_pattern_of_a_step():
    trainer = tiny_trainer(d_steps=2)
    record = inspect_step(trainer, real_batch())
    names = [str(i) for i in range(len(trainer.D))]
    for k in (0, 1):
        assert [layer.name for layer in record.layers("d_real", "D", d_step=k)] == names
        assert [layer.name for layer in record.layers("d_fake", "D", d_step=k)] == names
        # D's first layer: no input gradient in the D step
        assert record.layers("d_real", "D", d_step=k)[0].grad_input is None
        # G runs forward only in the D step
        assert all(layer.grad_output is None for layer in record.layers("d_fake", "G", k))
    # in the G step every D layer passes its input gradient on; G's first does not
    assert all(layer.grad_input is not None for layer in record.layers("g", "D"))
    assert record.layers("g", "G")[0].grad_input is None
    with pytest.raises(ConfigError, match="unknown phase"):
        record.layers("d", "D")


def test_the_recorded_gradients_are_the_ones_backprop_computes():
    trainer = tiny_trainer(real_label=0.9)
    trainer.step(real_batch(seed=5))
    record = inspect_step(trainer, real_batch())
    # D's weights after the step are the ones the G step ran through (the G step does not
    # change them); in training mode a copy of D computes the same pass on the same fakes
    D = copy.deepcopy(trainer.D).freeze()
    fake = record.fake_images.array
    out = D.forward(fake)
    np.testing.assert_array_equal(out, record.logits.array)
    grad_logit = trainer.objective.g_loss(out)["grad_fake"]
    np.testing.assert_array_equal(record.logit_gradient.array, grad_logit)
    expected_image = D.backward(grad_logit)
    np.testing.assert_allclose(record.generator_gradient.array, expected_image, rtol=1e-13,
                               atol=1e-18)
    # the gradient image is what leaves D's first layer and enters G's last layer
    np.testing.assert_array_equal(record.layers("g", "D")[0].grad_input.array,
                                  record.generator_gradient.array)
    np.testing.assert_array_equal(record.layers("g", "G")[-1].grad_output.array,
                                  record.generator_gradient.array)
    # along each backward pass, what a layer passes on is what the layer below receives
    for phase, network in [("g", "D"), ("g", "G"), ("d_real", "D"), ("d_fake", "D")]:
        layers = record.layers(phase, network)
        for below, above in zip(layers, layers[1:]):
            np.testing.assert_array_equal(above.grad_input.array, below.grad_output.array)
            assert above.grad_output.shape == above.output.shape
    # the D step's real pass starts from the BCE gradient (sigmoid(out) - 0.9) / N
    real_out = record.layers("d_real", "D")[-1].output.array
    np.testing.assert_allclose(record.layers("d_real", "D")[-1].grad_output.array,
                               (1 / (1 + np.exp(-real_out)) - 0.9) / real_out.size,
                               rtol=1e-12)
    # G's parameter gradient: ||dL/dθ_G|| as the trainer reports it
    theta = np.sqrt(sum(float((p.grad ** 2).sum()) for p in trainer.G.parameters()))
    assert theta == pytest.approx(record.stats["grad_norm_g"], rel=1e-12)
    # the numbers are those of the recorded arrays
    for label, tensor in record.g_path():
        assert tensor.norm == pytest.approx(np.linalg.norm(tensor.array), rel=1e-12), label
        assert tensor.mean == pytest.approx(tensor.array.mean(), rel=1e-12, abs=1e-300)
    assert [label for label, _ in record.g_path()][0] == "dL/dlogit"


def test_saliency_equals_finite_differences_and_leaves_d_untouched():
    _, D = tiny_models(seed=3)
    x = mg.backend.default_rng(4).uniform(-1, 1, (3, 8, 8, 1))
    before = {k: v.copy() for k, v in D.state_dict().items()}
    grads_before = [p.grad.copy() for p in D.parameters()]
    result = saliency(D, x)

    def f(images):  # the summed logits, in training mode (batch statistics)
        with mg.inspect.preserved(D):
            return float(D.forward(images).sum())

    eps, numeric = 1e-6, np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        numeric[index] = (f(x + step) - f(x - step)) / (2 * eps)
    np.testing.assert_allclose(result, numeric, rtol=1e-6, atol=1e-9)
    for key, value in D.state_dict().items():  # weights and running statistics
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    for p, grad in zip(D.parameters(), grads_before):
        np.testing.assert_array_equal(p.grad, grad)
        assert p.requires_grad
    assert D.training


def test_generator_gradient_follows_the_objectives_and_changes_nothing():
    G, D = tiny_models(seed=2)
    z = mg.backend.default_rng(0).standard_normal((6, 4))
    before = {k: v.copy() for k, v in list(G.state_dict().items()) + list(D.state_dict().items())}
    ns = generator_gradient(G, D, z, "non-saturating")
    mm = generator_gradient(G, D, z, "minimax")
    np.testing.assert_allclose(ns["grad_logit"], (ns["d_fake"] - 1) / 6, rtol=1e-12)
    np.testing.assert_allclose(mm["grad_logit"], -mm["d_fake"] / 6, rtol=1e-12)
    np.testing.assert_array_equal(ns["logits"], mm["logits"])
    assert ns["grad_image_norm"] == pytest.approx(np.linalg.norm(ns["grad_image"]), rel=1e-12)
    after = {k: v for k, v in list(G.state_dict().items()) + list(D.state_dict().items())}
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
    assert all(float(np.abs(p.grad).sum()) == 0 for p in G.parameters() + D.parameters())


def test_the_plots_and_the_summary_are_written(tmp_path):
    trainer = tiny_trainer()
    record = inspect_step(trainer, real_batch())
    paths = write_step_report(record, str(tmp_path / "inspect"), "step_000001",
                              real=real_batch(), D=trainer.D, n=4)
    names = sorted(p.split("/")[-1] for p in paths)
    assert names == ["step_000001.json", "step_000001_gradient_images.png",
                     "step_000001_gradient_norms.png", "step_000001_saliency.png"]
    for path in paths[:-1]:
        assert open(path, "rb").read(8) == PNG
    summary = json.loads(open(paths[-1]).read())
    assert summary["stats"]["step"] == 1
    assert summary["g_path"][0]["norm"] == pytest.approx(record.logit_gradient.norm)
    assert len(summary["phases"]["g"]["D"]) == len(trainer.D)


def test_unsupported_steps_are_refused_and_the_hooks_always_removed():
    trainer = tiny_trainer(feature_matching=2)
    with pytest.raises(ConfigError, match="feature_matching=None"):
        inspect_step(trainer, real_batch())
    G, _ = tiny_models()
    critic = nn.Sequential(nn.Flatten(), nn.Dense(64, 1, dtype="float64"))
    for options in ({"loss": "wgan-gp"}, {"r1": 1.0}):
        with pytest.raises(ConfigError, match="without r1 or the 'wgan-gp' objective"):
            inspect_step(Trainer(G, critic, **options), real_batch())
    trainer = tiny_trainer()
    with pytest.raises(Exception):
        with Recorder(trainer):
            trainer.step(real_batch()[..., :1, :])  # a wrong image size fails inside D
    for module in list(all_modules(trainer.G)) + list(all_modules(trainer.D)):
        assert not module._forward_hooks and not module._backward_hooks
    with pytest.raises(ConfigError, match="must be a minigan Module"):
        Recorder(types.SimpleNamespace(G=trainer.G, D="D"))


def test_inspect_every_writes_figures_and_changes_no_result(tmp_path):
    from minigan.checkpoint import load_checkpoint
    from minigan.cli import main

    quick = ["--batch-size", "16", "--no-progress", "--seed", "3", "--evaluate", "0",
             "--epochs", "1", "--max-steps", "3", "--model", "mlp"]
    plain, inspected = tmp_path / "plain", tmp_path / "inspected"
    assert main(["train", "--out", str(plain), *quick]) == 0
    assert main(["train", "--out", str(inspected), *quick, "--inspect-every", "2"]) == 0
    a, _ = load_checkpoint(str(plain / "checkpoints/last.npz"))
    b, _ = load_checkpoint(str(inspected / "checkpoints/last.npz"))
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert training_numbers(plain) == training_numbers(inspected)
    names = sorted(p.name for p in (inspected / "inspect").iterdir())
    assert names == [f"step_00000{s}{suffix}" for s in (2,) for suffix in
                     (".json", "_gradient_images.png", "_gradient_norms.png", "_saliency.png")]
    assert not (plain / "inspect").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--out", str(tmp_path / "x"), *quick, "--inspect-every", "-1"])
    assert exit_.value.code == 2


def test_recording_saliency_and_plots_on_the_strict_cupy_like_backend(array_backend, tmp_path):
    """Every number reaches the host through backend.to_numpy: no stray NumPy math on
    device arrays (the strict backend refuses it, as CuPy does)."""
    trainer = tiny_trainer()
    real = mg.backend.to_device(real_batch())
    record = inspect_step(trainer, real)
    assert isinstance(record.generator_gradient.array, np.ndarray)
    assert isinstance(saliency(trainer.D, real), array_backend.ndarray)
    result = generator_gradient(trainer.G, trainer.D, trainer.noise(6), "minimax")
    assert np.isfinite(result["grad_theta_norm"])
    paths = write_step_report(record, str(tmp_path), "s", real=real, D=trainer.D, n=2)
    assert len(paths) == 4
    # the same numbers as on NumPy -- where the weights and noise are the same: CuPy's
    # generator (XORWOW) draws other numbers than NumPy's for the same seed
    if mg.backend.name == "cupy":
        return
    mg.backend.use("numpy")
    expected = inspect_step(tiny_trainer(), real_batch())
    assert record.stats == pytest.approx(expected.stats, rel=1e-12)


def test_run_config_refuses_a_negative_inspect_every(tmp_path):
    from minigan.app.run import RunConfig, train

    with pytest.raises(ConfigError, match=r"RunConfig.inspect_every: expected an integer >= 0 "
                                          r"\(0: never\), got -2"):
        train(RunConfig(out=str(tmp_path / "run"), inspect_every=-2, progress=False))
    assert not (tmp_path / "run").exists()


class FakesFirst(Trainer):
    """A trainer whose D step shows D the fakes before the reals, naming each pass."""

    def _d_step(self, real, labels, stream):
        self.phase = "d_fake"
        fake = self._generate(self.noise(real.shape[0], stream), None)
        self.D.zero_grad()
        out_fake = self._discriminate(fake, None)
        loss_fake, grad = self.objective.d_fake(out_fake, self.fake_label)
        self.D.run_backward(grad, need_input_grad=False)
        self.phase = "d_real"
        out_real = self._discriminate(real, None)
        loss_real, grad = self.objective.d_real(out_real, self.real_label)
        self.D.run_backward(grad, need_input_grad=False)
        self.opt_d.step()
        return {"loss_d": loss_real + loss_fake, "d_real": 0.0, "d_fake": 0.0}


def test_the_phases_are_the_ones_the_trainer_names_not_the_call_order():
    G, D = tiny_models()
    trainer = FakesFirst(G, D, d_steps=2)
    real = real_batch()
    first_layer = copy.deepcopy(D[0])            # D's first layer before the first D step
    record = inspect_step(trainer, real)
    d_real = record.layers("d_real", "D", 0)
    np.testing.assert_array_equal(d_real[0].output.array, first_layer.forward(real))
    d_fake = record.layers("d_fake", "D", 0)
    fakes = record.layers("d_fake", "G", 0)[-1].output.array
    np.testing.assert_array_equal(d_fake[0].output.array, first_layer.forward(fakes))
    for k in range(2):
        d_real, d_fake = record.layers("d_real", "D", k), record.layers("d_fake", "D", k)
        fakes = record.layers("d_fake", "G", k)[-1].output.array
        np.testing.assert_array_equal(record.network_call("d_fake", "G", "forward", k)
                                      .output.array, fakes)
        assert not np.array_equal(d_fake[0].output.array, d_real[0].output.array)
        first_fake_pass = [c for p, s, c in record.calls if s == k and c.network == "D"][0]
        assert first_fake_pass is record.network_call("d_fake", "D", "forward", k)
    assert [layer.name for layer in record.layers("g", "D")] == ["0", "1", "2", "3", "4"]
