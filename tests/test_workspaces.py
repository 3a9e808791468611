"""Speed tricks that must change no result.

* Reused scratch buffers (``minigan/workspace.py``): nothing a caller keeps -- a layer's
  output, an input gradient, a parameter gradient, a batch of samples -- is overwritten
  by a later call.
* The two formulations of the conv input gradient (``functional/conv.py``): GEMM +
  col2im and phase decomposition agree on every geometry, and each is what
  ``conv2d_input_grad`` picks somewhere.
* The fused Adam step is the plain formula to the bit.

Every test runs on NumPy and on the strict CuPy-like backend (``array_backend``).
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import backend
from minigan.functional import conv as C
from minigan.workspace import Workspace, scratch

FAST = settings(deadline=None, max_examples=30)


def randn(rng, *shape, dtype=np.float64):
    return backend.to_device(rng.standard_normal(shape).astype(dtype))


def host(a):
    return backend.to_numpy(a).copy()


# ---------------------------------------------------------------------------- Workspace

def test_workspace_reuses_only_a_matching_array(array_backend):
    ws = Workspace()
    a = ws.empty("a", (3, 4), np.float32)
    assert ws.empty("a", (3, 4), np.float32) is a
    assert ws.empty("a", (4, 3), np.float32) is not a       # new shape: new array
    b = ws.empty("a", (4, 3), np.float64)
    assert b.dtype == np.float64
    assert ws.empty("other", (4, 3), np.float64) is not b   # names never share
    z = ws.zeros("z", (2, 2), np.float64)
    z += 5
    assert float(ws.zeros("z", (2, 2), np.float64).sum()) == 0.0


def test_scratch_is_per_thread():
    import threading

    seen = []
    thread = threading.Thread(target=lambda: seen.append(scratch()))
    thread.start()
    thread.join()
    assert seen[0] is not scratch()


# ---------------------------------------------------------------------------- layers

def _layers(dtype):
    rng = backend.default_rng(0)
    return [
        (mg.nn.Conv2d(2, 3, 5, stride=2, padding=2, dtype=dtype, rng=rng), (4, 9, 9, 2)),
        (mg.nn.Conv2d(1, 4, 3, stride=1, padding=1, dtype=dtype, rng=rng), (3, 6, 6, 1)),
        (mg.nn.ConvTranspose2d(3, 2, 5, stride=2, padding=2, output_padding=1, dtype=dtype,
                               rng=rng), (4, 4, 4, 3)),
        (mg.nn.ConvTranspose2d(4, 1, 5, stride=2, padding=2, output_padding=1, dtype=dtype,
                               rng=rng), (3, 5, 5, 4)),
        (mg.nn.ConvTranspose2d(2, 3, 3, stride=1, padding=1, dtype=dtype, rng=rng),
         (2, 5, 5, 2)),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_and_gradients_survive_later_calls(array_backend, dtype):
    """y1 = layer(x1); y2 = layer(x2): y1 unchanged; backward results unchanged by another
    backward; parameter gradients accumulated exactly as two separate computations."""
    rng = np.random.default_rng(1)
    for layer, shape in _layers(dtype):
        x1, x2 = randn(rng, *shape, dtype=dtype), randn(rng, *shape, dtype=dtype)
        y1 = layer.forward(x1)
        y1_copy = host(y1)
        gy1 = randn(rng, *y1.shape, dtype=dtype)
        gx1 = layer.backward(gy1)
        gx1_copy, gw1 = host(gx1), host(layer.weight.grad)
        y2 = layer.forward(x2)
        gx2 = layer.backward(randn(rng, *y2.shape, dtype=dtype))
        np.testing.assert_array_equal(host(y1), y1_copy, err_msg=repr(layer))
        np.testing.assert_array_equal(host(gx1), gx1_copy, err_msg=repr(layer))
        assert y1 is not y2 and gx1 is not gx2
        # and the first call's results are what a fresh layer computes
        layer.zero_grad()
        y1_again = layer.forward(x1)
        np.testing.assert_array_equal(host(y1_again), y1_copy, err_msg=repr(layer))
        np.testing.assert_array_equal(host(layer.backward(gy1)), gx1_copy, err_msg=repr(layer))
        np.testing.assert_array_equal(host(layer.weight.grad), gw1, err_msg=repr(layer))


def test_two_conv_layers_with_the_same_shapes_do_not_share_their_caches(array_backend):
    """Two layers' forwards, then both backwards: each backward uses its own input."""
    rng = np.random.default_rng(2)
    a = mg.nn.Conv2d(3, 4, 5, stride=2, padding=2, dtype=np.float64)
    b = mg.nn.Conv2d(3, 4, 5, stride=2, padding=2, dtype=np.float64)
    b.load_state_dict(a.state_dict())
    xa, xb = randn(rng, 2, 8, 8, 3), randn(rng, 2, 8, 8, 3)
    ya, yb = a.forward(xa), b.forward(xb)
    gy = randn(rng, *ya.shape)
    a.backward(gy)
    b.backward(gy)
    fresh = mg.nn.Conv2d(3, 4, 5, stride=2, padding=2, dtype=np.float64)
    fresh.load_state_dict(a.state_dict())
    fresh.forward(xa)
    fresh.backward(gy)
    np.testing.assert_array_equal(host(a.weight.grad), host(fresh.weight.grad))
    assert not np.array_equal(host(a.weight.grad), host(b.weight.grad))


def test_sequential_backward_results_are_not_overwritten(array_backend):
    rng = np.random.default_rng(3)
    G = mg.gan.dcgan_generator(8, dtype=np.float64, rng=backend.default_rng(0))
    z1, z2 = randn(rng, 3, 8), randn(rng, 3, 8)
    y1 = G.forward(z1)
    y1_copy = host(y1)
    g1 = G.backward(randn(rng, *y1.shape))
    g1_copy = host(g1)
    grads1 = [host(p.grad) for p in G.parameters()]
    G.zero_grad()
    y2 = G.forward(z2)
    G.backward(randn(rng, *y2.shape))
    np.testing.assert_array_equal(host(y1), y1_copy)
    np.testing.assert_array_equal(host(g1), g1_copy)
    assert any(not np.array_equal(host(p.grad), g) for p, g in zip(G.parameters(), grads1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_trainer_samples_and_stats_are_not_overwritten_by_later_steps(array_backend, dtype):
    rng = np.random.default_rng(4)
    G = mg.gan.dcgan_generator(16, dtype=dtype, rng=backend.default_rng(0))
    D = mg.gan.dcgan_discriminator(dtype=dtype, rng=backend.default_rng(1))
    trainer = mg.gan.Trainer(G, D, seed=0)
    real = backend.to_device(np.tanh(rng.standard_normal((4, 28, 28, 1))).astype(dtype))
    trainer.step(real)
    z = trainer.noise(5, 123)
    samples = trainer.sample(5, z=z)
    samples_copy = host(samples)
    more = trainer.sample(7)  # same layers, another batch size
    trainer.step(real)
    trainer.step(real)
    np.testing.assert_array_equal(host(samples), samples_copy)
    assert more is not samples
    # the same weights and z give the same samples
    state = trainer.state_dict()
    trainer2 = mg.gan.Trainer(mg.gan.dcgan_generator(16, dtype=dtype),
                              mg.gan.dcgan_discriminator(dtype=dtype), seed=0)
    trainer2.load_state_dict(state)
    np.testing.assert_array_equal(host(trainer2.sample(5, z=z)), host(trainer.sample(5, z=z)))


# ---------------------------------------------------------------------------- conv paths

@st.composite
def input_grad_cases(draw):
    n = draw(st.integers(1, 3))
    c_in, c_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    h, wd = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    oh, ow = C.conv_output_size(h, kh, sh, ph), C.conv_output_size(wd, kw, sw, pw)
    assume(oh >= 1 and ow >= 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    bias = rng.standard_normal(c_in) if draw(st.booleans()) else None
    return (rng.standard_normal((n, oh, ow, c_out)), rng.standard_normal((kh, kw, c_in, c_out)),
            (sh, sw), (ph, pw), (h, wd), bias)


@FAST
@given(case=input_grad_cases(), chunk=st.sampled_from([None, 1, 7]))
def test_col2im_and_phase_input_gradients_agree(array_backend, monkeypatch, case, chunk):
    gy, w, stride, padding, in_size, bias = case
    if chunk is not None:  # several chunks of samples, the last one partial
        monkeypatch.setattr(C, "COL2IM_CHUNK_VALUES", chunk * gy.shape[1] * gy.shape[2]
                            * w.shape[0] * w.shape[1] * w.shape[2])
    gy, w = backend.to_device(gy), backend.to_device(w)
    bias = None if bias is None else backend.to_device(bias)
    a = C.input_grad_col2im(gy, w, stride, padding, in_size, bias)
    b = C.input_grad_phase(gy, w, stride, padding, in_size)
    if bias is not None:
        b += bias
    assert tuple(a.shape) == tuple(b.shape) == (gy.shape[0], *in_size, w.shape[2])
    np.testing.assert_allclose(host(a), host(b), rtol=1e-12, atol=1e-12)


def test_input_gradient_picks_each_path_somewhere(monkeypatch):
    calls = []
    monkeypatch.setattr(C, "input_grad_col2im", lambda *a: calls.append("col2im"))
    monkeypatch.setattr(C, "input_grad_phase", lambda *a: calls.append("phase"))
    w = np.zeros((5, 5, 64, 128))
    C.conv2d_input_grad(np.zeros((1, 7, 7, 128)), w, 2, 2, (14, 14))       # stride 2
    C.conv2d_input_grad(np.zeros((1, 14, 14, 64)), np.zeros((5, 5, 1, 64)), 1, 2, (14, 14))
    C.conv2d_input_grad(np.zeros((1, 14, 14, 128)), w, 1, 2, (14, 14))    # stride 1, wide
    assert calls == ["col2im", "col2im", "phase"]


# ---------------------------------------------------------------------------- Adam

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_step_is_the_plain_formula_to_the_bit(array_backend, dtype):
    rng = np.random.default_rng(5)
    p = mg.nn.Parameter(rng.standard_normal((6, 5)).astype(dtype))
    ref = rng.standard_normal((6, 5)).astype(dtype)
    p.data[...] = backend.to_device(ref)
    m, v = np.zeros_like(ref), np.zeros_like(ref)
    lr, (b1, b2), eps = 1e-3, (0.5, 0.999), 1e-8
    opt = mg.optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    for t in range(1, 5):
        g = rng.standard_normal(ref.shape).astype(dtype)
        p.grad[...] = backend.to_device(g)
        opt.step()
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        denominator = np.sqrt(v)
        denominator /= math.sqrt(1 - b2 ** t)
        denominator += eps
        update = m / denominator
        update *= lr / (1 - b1 ** t)
        ref -= update
        np.testing.assert_array_equal(host(p.data), ref)



# ---------------------------------------------------------------------------- sample chunks

@pytest.mark.parametrize("model", ["dcgan", "conditional"])
def test_sample_in_chunks_is_one_whole_eval_forward(array_backend, model, monkeypatch):
    """Trainer.sample generates SAMPLE_CHUNK samples at a time (eval mode: each image
    depends on its own z only): the result is G's whole-batch eval forward, to the bit,
    for a count that is not a multiple of the chunk."""
    from minigan.gan import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "SAMPLE_CHUNK", 16)
    rng = backend.default_rng(0)
    G, D = mg.gan.build_models(model, rng=rng)
    trainer = mg.gan.Trainer(G, D, seed=0)
    trainer.step(randn(np.random.default_rng(1), 8, 28, 28, 1, dtype=np.float32),
                 **({"labels": backend.xp.arange(8) % 10} if model == "conditional" else {}))
    z = trainer.noise(37, 5)
    labels = backend.xp.arange(37) % 10 if model == "conditional" else None
    chunked = host(trainer.sample(37, z=z, labels=labels))
    G.eval()
    whole = host(G.forward(z) if labels is None else G.forward(z, labels))
    G.train()
    assert chunked.shape == whole.shape and np.array_equal(chunked, whole)


def test_a_generator_that_mixes_samples_is_run_whole(monkeypatch):
    """A generator with a MinibatchStdDev layer (its eval output depends on the batch) is
    not chunked: sample equals the whole-batch forward, which chunks would not."""
    from minigan.gan import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "SAMPLE_CHUNK", 4)
    rng = backend.default_rng(0)
    G = mg.nn.Sequential(mg.nn.Dense(3, 5, rng=rng), mg.nn.MinibatchStdDev(),
                         mg.nn.Dense(6, 2, rng=rng))
    D = mg.nn.Sequential(mg.nn.Dense(2, 1, rng=rng))
    trainer = mg.gan.Trainer(G, D, latent_dim=3, seed=0)
    z = trainer.noise(10, 5)
    G.eval()
    whole = host(G.forward(z))
    in_chunks = np.concatenate([host(G.forward(z[i:i + 4])) for i in range(0, 10, 4)])
    G.train()
    assert not np.allclose(whole, in_chunks)          # chunks would change the result
    assert np.array_equal(host(trainer.sample(10, z=z)), whole)
