"""Module hooks: a forward hook gets (module, inputs, output) and a backward hook
(module, grad_input, grad_output) -- the very arrays the module saw -- every container
runs its children's hooks, a handle removes its hook, and the trainer names the phase of
the step its networks run in."""

import numpy as np
import pytest

import minigan as mg
from minigan.errors import ConfigError
from minigan.gan import Trainer

nn = mg.nn


def rng(seed=0):
    return mg.backend.default_rng(seed)


def watch(model):
    """Register a forward and a backward hook on every module of ``model``; returns the
    list of (kind, module, first, second) calls in the order they happened."""
    calls = []
    for module in model.modules():
        module.register_forward_hook(lambda m, inputs, out: calls.append(("f", m, inputs, out)))
        module.register_backward_hook(lambda m, gx, gy: calls.append(("b", m, gx, gy)))
    return calls


def test_forward_and_backward_hooks_get_the_arrays_the_layer_saw():
    layer = nn.Dense(3, 2, dtype="float64", rng=rng())
    seen = []
    layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs, out)))
    layer.register_backward_hook(lambda m, gx, gy: seen.append((m, gx, gy)))
    x = np.arange(12.0).reshape(4, 3)
    y = layer.run_forward(x)
    gy = np.ones((4, 2))
    gx = layer.run_backward(gy)
    assert len(seen) == 2
    (m1, inputs, out), (m2, grad_input, grad_output) = seen
    assert m1 is layer and m2 is layer
    assert len(inputs) == 1 and inputs[0] is x and out is y
    assert grad_input is gx and grad_output is gy
    np.testing.assert_allclose(out, x @ layer.weight.data + layer.bias.data)
    np.testing.assert_allclose(grad_input, gy @ layer.weight.data.T)


def test_a_backward_hook_sees_none_where_no_input_gradient_is_computed():
    layer = nn.Dense(3, 2, dtype="float64", rng=rng())
    seen = []
    layer.register_backward_hook(lambda m, gx, gy: seen.append(gx))
    layer.run_forward(np.ones((2, 3)))
    assert layer.run_backward(np.ones((2, 2)), need_input_grad=False) is None
    assert seen == [None]


def test_the_checked_call_runs_the_forward_hooks_and_forward_alone_does_not():
    layer = nn.Tanh()
    seen = []
    layer.register_forward_hook(lambda m, inputs, out: seen.append(out))
    y = layer(np.zeros((2, 3)))
    assert len(seen) == 1 and seen[0] is y
    layer.forward(np.zeros((2, 3)))       # the layer's own computation: no hooks
    assert len(seen) == 1


def test_remove_unregisters_only_its_hook():
    layer = nn.ReLU()
    a, b = [], []
    handle_a = layer.register_forward_hook(lambda m, inputs, out: a.append(1))
    layer.register_forward_hook(lambda m, inputs, out: b.append(1))
    layer.run_forward(np.ones((1, 2)))
    handle_a.remove()
    handle_a.remove()                     # a second remove does nothing
    layer.run_forward(np.ones((1, 2)))
    assert a == [1] and b == [1, 1]
    handle = layer.register_backward_hook(lambda m, gx, gy: a.append(2))
    handle.remove()
    layer.run_backward(np.ones((1, 2)))
    assert a == [1]


def test_a_hook_must_be_callable():
    with pytest.raises(ConfigError, match="hook must be callable"):
        nn.ReLU().register_forward_hook("not a function")


def test_sequential_runs_its_children_hooks_in_order_with_the_arrays_passed_between_them():
    seq = nn.Sequential(nn.Dense(3, 4, dtype="float64", rng=rng()), nn.ReLU(),
                        nn.Dense(4, 1, dtype="float64", rng=rng(1)))
    calls = watch(seq)
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    y = seq(x)
    gy = np.ones((2, 1))
    gx = seq.run_backward(gy)
    forwards = [c for c in calls if c[0] == "f"]
    backwards = [c for c in calls if c[0] == "b"]
    assert [c[1] for c in forwards] == [seq[0], seq[1], seq[2], seq]   # children, then seq
    assert [c[1] for c in backwards] == [seq[2], seq[1], seq[0], seq]
    assert forwards[0][2][0] is x and forwards[-1][3] is y
    for before, after in zip(forwards, forwards[1:3]):
        assert after[2][0] is before[3]          # a child's output is the next one's input
    assert backwards[0][3] is gy and backwards[-1][2] is gx
    for before, after in zip(backwards, backwards[1:3]):
        assert after[3] is before[2]             # a child's dL/dx is the previous one's gy


def run_once(model, x, labels=None):
    y = model.run_forward(x) if labels is None else model.run_forward(x, labels)
    model.run_backward(np.ones_like(y))


CONTAINERS = {
    "spectral norm and minibatch stddev": (
        lambda: mg.gan.dcgan_discriminator(spectral_norm=True, minibatch_stddev=True,
                                           dtype="float64", rng=rng()), (2, 28, 28, 1), False),
    "projection discriminator": (
        lambda: mg.gan.conditional_dcgan_discriminator(spectral_norm=True, dtype="float64",
                                                       rng=rng()), (2, 28, 28, 1), True),
    "label conditioned": (
        lambda: mg.gan.conditional_generator(8, dtype="float64", rng=rng()), (2, 8), True),
    "fade of equalized layers": (
        lambda: nn.Fade(old=nn.EqualizedLR(nn.Dense(3, 2, dtype="float64", rng=rng())),
                        new=nn.Sequential(nn.Dense(3, 2, dtype="float64", rng=rng(1)),
                                          nn.Tanh()), alpha=0.25), (4, 3), False),
}


@pytest.mark.parametrize("name", sorted(CONTAINERS))
def test_every_module_inside_a_container_runs_its_hooks_once_per_pass(name):
    build, shape, conditional = CONTAINERS[name]
    model = build()
    calls = watch(model)
    x = np.random.default_rng(0).uniform(-1, 1, shape)
    run_once(model, x, np.array([3, 7]) if conditional else None)
    for module in model.modules():
        kinds = [c[0] for c in calls if c[1] is module]
        assert kinds == ["f", "b"], f"{module!r}: {kinds}"


def test_the_progressive_networks_run_the_hooks_of_the_stage_that_runs():
    D = mg.gan.ProgressiveDiscriminator(dtype="float64", rng=rng()).grow(1, alpha=0.5)
    calls = watch(D.network())       # the stage's network: Sequentials, a Fade, the layers
    run_once(D, np.random.default_rng(0).uniform(-1, 1, (2, 14, 14, 1)))
    running = list(D.network().modules())
    assert any(isinstance(m, nn.Fade) for m in running) and len(running) > 10
    for module in running:
        assert [c[0] for c in calls if c[1] is module] == ["f", "b"], repr(module)


def phase_trace(trainer, network):
    trace = []
    network.register_forward_hook(
        lambda m, inputs, out: trace.append((trainer.phase, trainer.d_step_index)))
    return trace


def test_the_trainer_names_the_phase_each_network_runs_in():
    rngs = rng(4)
    G = nn.Sequential(nn.Dense(4, 16, dtype="float64", rng=rngs), nn.Tanh(), nn.Reshape(4, 4, 1))
    D = nn.Sequential(nn.Flatten(), nn.Dense(16, 1, dtype="float64", rng=rngs))
    trainer = Trainer(G, D, d_steps=2, latent_dim=4)
    d_trace, g_trace = phase_trace(trainer, D), phase_trace(trainer, G)
    assert trainer.phase is None and trainer.d_step_index is None
    trainer.step(np.zeros((3, 4, 4, 1)))
    assert d_trace == [("d_real", 0), ("d_fake", 0), ("d_real", 1), ("d_fake", 1), ("g", None)]
    assert g_trace == [("d_fake", 0), ("d_fake", 1), ("g", None)]
    assert trainer.phase is None and trainer.d_step_index is None


class PenaltyWatcher(Trainer):
    def _r1_penalty(self, real):
        self.seen.append(self.phase)
        return super()._r1_penalty(real)

    def _gradient_penalty(self, real, fake, stream):
        self.seen.append(self.phase)
        return super()._gradient_penalty(real, fake, stream)


@pytest.mark.parametrize("options, phase", [({"r1": 1.0}, "r1"),
                                            ({"loss": "wgan-gp"}, "gradient_penalty")])
def test_the_penalties_run_in_phases_of_their_own(options, phase):
    G = nn.Sequential(nn.Dense(4, 16, dtype="float64", rng=rng(2)), nn.Tanh())
    D = nn.Sequential(nn.Dense(16, 8, dtype="float64", rng=rng(3)), nn.LeakyReLU(0.2),
                      nn.Dense(8, 1, dtype="float64", rng=rng(4)))
    trainer = PenaltyWatcher(G, D, latent_dim=4, **options)
    trainer.seen = []
    trainer.step(np.zeros((3, 16)))
    assert trainer.seen == [phase]


def test_a_failing_step_leaves_no_phase_behind():
    G = nn.Sequential(nn.Dense(4, 16, dtype="float64", rng=rng(2)), nn.Tanh())
    D = nn.Sequential(nn.Dense(16, 1, dtype="float64", rng=rng(3)))
    trainer = Trainer(G, D, latent_dim=4)
    D.register_forward_hook(lambda m, inputs, out: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        trainer.step(np.zeros((3, 16)))
    assert trainer.phase is None and trainer.d_step_index is None
