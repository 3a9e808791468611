"""Module mechanics: parameters, state, modes, freezing, caches, dtypes, gradient
accumulation and the no-mutation rule."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import StateError


def small_discriminator(dtype="float64"):
    return mg.nn.Sequential(
        mg.nn.Conv2d(1, 2, 3, stride=2, padding=1, dtype=dtype), mg.nn.LeakyReLU(0.2),
        mg.nn.BatchNorm2d(2, dtype=dtype), mg.nn.Flatten(), mg.nn.Dense(2 * 4 * 4, 1, dtype=dtype))


def test_parameters_and_state_dict_keys_follow_pytorch_naming():
    model = small_discriminator()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert [p.shape for p in model.parameters()] == [(3, 3, 1, 2), (2,), (2,), (2,), (32, 1), (1,)]
    assert list(model.state_dict()) == names[:4] + ["2.running_mean", "2.running_var"] + names[4:]
    assert model[2].running_var.tolist() == [1.0, 1.0]
    assert model[2].weight.data.tolist() == [1.0, 1.0] and model[2].bias.data.tolist() == [0, 0]


def test_bias_false_leaves_bias_none_and_out_of_state():
    layer = mg.nn.Conv2d(1, 2, 3, bias=False)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]


def test_state_dict_round_trip_restores_outputs_and_is_a_copy(array_backend):
    x = mg.backend.default_rng(1).standard_normal((3, 8, 8, 1))
    source, target = small_discriminator(), small_discriminator()
    mg.gan.dcgan_init_(source, rng=mg.backend.default_rng(5))
    source(x)  # move the running statistics
    state = source.state_dict()
    target.load_state_dict({k: mg.backend.to_numpy(v) for k, v in state.items()})
    source.eval(), target.eval()
    np.testing.assert_array_equal(mg.backend.to_numpy(source(x)), mg.backend.to_numpy(target(x)))
    state["0.weight"][...] = 0  # the state dict holds copies
    assert float(abs(source[0].weight.data).sum()) > 0


def test_load_state_dict_names_missing_and_mismatched_keys_and_changes_nothing():
    model = small_discriminator()
    before = model.state_dict()
    state = model.state_dict()
    del state["2.running_mean"]
    with pytest.raises(StateError, match=r"missing \['2.running_mean'\]"):
        model.load_state_dict(state)
    state = model.state_dict()
    state["0.weight"] = np.zeros((3, 3, 1, 2))
    state["4.weight"] = np.zeros((31, 1))
    with pytest.raises(StateError, match=r"'4.weight' has shape \(31, 1\), expected \(32, 1\)"):
        model.load_state_dict(state)
    for key, value in model.state_dict().items():  # the failed load wrote nothing
        np.testing.assert_array_equal(value, before[key])


def test_train_eval_propagate_to_children():
    model = small_discriminator()
    assert model.eval() is model
    assert not any(m.training for m in [model, *model])
    model.train()
    assert all(m.training for m in [model, *model])


def test_modules_lists_every_module_depth_first_parents_first():
    inner = mg.nn.Sequential(mg.nn.Dense(2, 3), mg.nn.ReLU())
    outer = mg.nn.Sequential(mg.nn.Dense(4, 2), inner, mg.nn.SpectralNorm(mg.nn.Dense(3, 1)))
    got = list(outer.modules())
    expected = [outer, outer[0], inner, inner[0], inner[1], outer[2], outer[2].layer]
    assert len(got) == len(expected) and all(a is b for a, b in zip(got, expected))
    assert list(mg.nn.Tanh().modules())[0].__class__ is mg.nn.Tanh


@given(seed=st.integers(0, 1000))
def test_backward_accumulates_and_zero_grad_resets(seed):
    model = small_discriminator()
    x = mg.backend.default_rng(seed).standard_normal((2, 8, 8, 1))
    gy = mg.backend.default_rng(seed + 1).standard_normal((2, 1))
    model(x)
    model.backward(gy)
    once = [p.grad.copy() for p in model.parameters()]
    model(x)
    model.backward(gy)
    for p, g in zip(model.parameters(), once):
        np.testing.assert_allclose(p.grad, 2 * g, rtol=1e-12, atol=1e-14)
    model.zero_grad()
    assert all(not p.grad.any() for p in model.parameters())


def test_frozen_module_returns_the_same_input_gradient_and_no_weight_gradients():
    model = small_discriminator()
    x = mg.backend.default_rng(0).standard_normal((2, 8, 8, 1))
    gy = mg.backend.default_rng(1).standard_normal((2, 1))
    model(x)
    expected = model.backward(gy)
    model.zero_grad()
    model.freeze()
    model(x)
    gx = model.backward(gy)
    np.testing.assert_array_equal(gx, expected)
    assert all(not p.grad.any() for p in model.parameters())
    model.unfreeze()
    assert all(p.requires_grad for p in model.parameters())


def test_first_layer_input_gradient_can_be_skipped():
    model = small_discriminator()
    x = mg.backend.default_rng(0).standard_normal((2, 8, 8, 1))
    model(x)
    assert model.backward(mg.backend.default_rng(1).standard_normal((2, 1)),
                          need_input_grad=False) is None
    assert model[0].weight.grad.any()


def test_backward_without_forward_and_twice_raise():
    layer = mg.nn.Dense(3, 2)
    with pytest.raises(StateError, match=r"Dense\(3, 2, bias=True\): backward called without"):
        layer.backward(np.ones((1, 2), "float32"))
    layer(np.ones((1, 3), "float32"))
    layer.backward(np.ones((1, 2), "float32"))
    with pytest.raises(StateError, match="without a preceding forward"):
        layer.backward(np.ones((1, 2), "float32"))


@given(seed=st.integers(0, 1000))
def test_a_saved_backward_state_survives_other_forwards_and_backwards(seed):
    rng = mg.backend.default_rng(seed)
    x, other = rng.standard_normal((2, 8, 8, 1)), rng.standard_normal((3, 8, 8, 1))
    gy, g_other = rng.standard_normal((2, 1)), rng.standard_normal((3, 1))
    model, twin = small_discriminator(), small_discriminator()
    twin.load_state_dict(model.state_dict())
    model(x)
    twin(x)
    state = model.save_backward_state()
    assert state.cache is None and model[0].save_backward_state().cache is not None
    model(other)                     # a block that runs the model on another batch ...
    model.backward(g_other)
    model(other)                     # ... and leaves a forward of its own pending
    model.restore_backward_state(state)
    model.zero_grad()
    # the same computation as the twin's, which saw only x: the same bits
    np.testing.assert_array_equal(model.backward(gy), twin.backward(gy))
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)


def test_restore_backward_state_refuses_another_modules_state_and_changes_nothing():
    model, other = small_discriminator(), small_discriminator()
    x = mg.backend.default_rng(0).standard_normal((2, 8, 8, 1))
    model(x)
    other(x[:1])
    with pytest.raises(StateError, match="expected the BackwardState that this module's"):
        model.restore_backward_state(other.save_backward_state())
    with pytest.raises(StateError, match="expected the BackwardState"):
        model.restore_backward_state(None)
    assert model.backward(np.ones((2, 1))).shape == (2, 8, 8, 1)   # still x's forward


def test_clear_backward_state_forgets_every_pending_forward():
    model = small_discriminator()
    model(mg.backend.default_rng(0).standard_normal((2, 8, 8, 1)))
    model.clear_backward_state()
    assert all(m.save_backward_state().cache is None for m in model.modules())
    with pytest.raises(StateError, match="without a preceding forward"):
        model.backward(np.ones((2, 1)))


def test_computes_param_grads_and_accumulate_param_grads():
    layer = mg.nn.Conv2d(1, 2, 3, bias=False, dtype="float64")
    assert layer.computes_param_grads and not mg.nn.LeakyReLU().computes_param_grads
    g = mg.backend.default_rng(0).standard_normal(layer.weight.shape)
    layer.accumulate_param_grads(weight=g, bias=np.ones(2))     # no bias: ignored
    layer.accumulate_param_grads(weight=g)
    np.testing.assert_array_equal(layer.weight.grad, g + g)
    layer.freeze()
    assert not layer.computes_param_grads
    layer.accumulate_param_grads(weight=g)                      # frozen: nothing added
    np.testing.assert_array_equal(layer.weight.grad, g + g)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_flows_through_unchanged(array_backend, dtype):
    xp = array_backend
    model = mg.nn.Sequential(
        mg.nn.Dense(4, 2 * 2 * 3, dtype=dtype), mg.nn.Reshape(2, 2, 3),
        mg.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1, dtype=dtype),
        mg.nn.BatchNorm2d(2, dtype=dtype), mg.nn.ReLU(), mg.nn.Tanh(), mg.nn.Sigmoid(),
        mg.nn.Conv2d(2, 2, 3, padding="same", dtype=dtype), mg.nn.LeakyReLU(0.2),
        mg.nn.Flatten(), mg.nn.BatchNorm1d(32, dtype=dtype), mg.nn.Dense(32, 1, dtype=dtype))
    x = mg.backend.default_rng(0).standard_normal((3, 4), dtype=dtype)
    y = model(x)
    gx = model.backward(xp.ones_like(y))
    assert y.dtype == gx.dtype == xp.dtype(dtype)
    assert all(p.grad.dtype == xp.dtype(dtype) for p in model.parameters())


@given(seed=st.integers(0, 1000))
def test_backward_never_mutates_its_upstream_gradient(seed):
    rng = mg.backend.default_rng(seed)
    model = mg.nn.Sequential(
        mg.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1, dtype="float64"),
        mg.nn.BatchNorm2d(2, dtype="float64"), mg.nn.ReLU(), mg.nn.Tanh(), mg.nn.Sigmoid(),
        mg.nn.LeakyReLU(0.2), mg.nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype="float64"),
        mg.nn.Flatten(), mg.nn.Dense(48, 2, dtype="float64"))
    for layer in model:
        x = rng.standard_normal((2, 4, 4, 2))
        for earlier in model.layers[: model.layers.index(layer)]:
            x = earlier(x)
        y = layer(x)
        gy = rng.standard_normal(y.shape)
        kept = gy.copy()
        layer.backward(gy)
        np.testing.assert_array_equal(gy, kept, err_msg=repr(layer))


def test_sequential_indexing_and_slicing():
    model = small_discriminator()
    assert len(model) == 5 and isinstance(model[1], mg.nn.LeakyReLU)
    head = model[:2]
    assert isinstance(head, mg.nn.Sequential) and head[0] is model[0]
