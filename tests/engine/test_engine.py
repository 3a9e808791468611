"""minigan.engine: every fast primitive gives the plain one's numbers.

* the CPU engine (pieces on minigan's threads, reused buffers) and the device engine
  (whole-batch operations, sums as products with ones, split inner dimensions) against
  the reference engine, primitive by primitive, on hypothesis-drawn shapes, on NumPy and
  on the strict CuPy-like backend: exactly where the work per element is the same
  (im2col, col2im, elementwise rules, Adam), to float64 rounding where a product or a
  sum is cut into pieces;
* the CPU engine on 1, 2 and 3 threads, with its size thresholds lowered so that small
  test arrays are split: the same bits run after run, and across thread counts;
* each backend gets its engine (the threads themselves: ``test_threads.py``);
* nothing the engine returns is one of its scratch buffers: outputs and gradients
  survive later calls;
* ``Trainer.sample`` in passes of ``sample_chunk`` samples is one whole eval forward.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import backend, engine, parallel
from minigan.engine import cpu, device, threads, unfold
from minigan.functional import activations as A
from minigan.functional import batchnorm as B
from minigan.functional import fade as FADE
from minigan.functional import pixel_norm as PN
from minigan.functional import pooling as POOL
from minigan.functional import projection as PROJECTION
from minigan.functional import upsample as UP

FAST = settings(deadline=None, max_examples=25)


@pytest.fixture
def tiny_pieces(monkeypatch):
    """Lower the engines' size thresholds so that arrays of a few values are split too."""
    monkeypatch.setattr(cpu, "MATMUL_SPLIT_MIN", 0)
    monkeypatch.setattr(cpu, "ROWS_MIN", 1)
    monkeypatch.setattr(cpu, "VALUES_MIN", 1)
    monkeypatch.setattr(cpu, "ADAM_VALUES_MIN", 1)
    monkeypatch.setattr(cpu, "BLOCK_VALUES", 7)
    monkeypatch.setattr(cpu, "FOLD_VALUES", 20)
    monkeypatch.setattr(device, "SMALL_RESULT", 1 << 30)
    monkeypatch.setattr(device, "PIECES", 4)


def randn(rng, *shape, dtype=np.float64):
    return backend.to_device(rng.standard_normal(shape).astype(dtype))


def host(a):
    return None if a is None else backend.to_numpy(a).copy()


def run_on(name, fn, count=None):
    """fn() on engine ``name`` (with ``count`` threads), results copied to the host."""
    if count is not None:
        parallel.set_threads(count)
    try:
        with engine.using(name):
            result = fn()
    finally:
        parallel.set_threads(None)
    return [host(a) for a in (result if isinstance(result, (list, tuple)) else [result])]


def assert_same(expected, actual, exact):
    for a, b in zip(expected, actual, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        if exact:
            np.testing.assert_array_equal(b, a)
        else:
            scale = max(float(np.abs(a).max(initial=0)), 1e-30)
            tol = (1e-5 if a.dtype == np.float32 else 1e-12) * scale
            assert np.abs(a.astype(np.float64) - b).max(initial=0.0) <= tol


def assert_engines_agree(fn, exact):
    """fn() on the reference engine, the device engine and the CPU engine on 1-3 threads:
    equal (``exact``) or equal to rounding; the CPU engine gives the same bits on every
    thread count and run after run."""
    reference = run_on("reference", fn)
    assert_same(reference, run_on("device", fn), exact)
    on_one = run_on("cpu", fn, 1)
    assert_same(reference, on_one, exact)
    for count in (2, 3):
        assert_same(on_one, run_on("cpu", fn, count), exact)
    for a, b in zip(run_on("cpu", fn, 2), run_on("cpu", fn, 2)):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- primitives

dtypes = st.sampled_from([np.float32, np.float64])


@FAST
@given(m=st.integers(1, 30), k=st.integers(1, 90), p=st.integers(1, 30),
       transpose=st.sampled_from(["", "a", "b", "ab"]), dtype=dtypes, seed=st.integers(0, 2**16))
def test_matmul(array_backend, tiny_pieces, m, k, p, transpose, dtype, seed):
    """Split by rows, by columns or along the inner dimension (cpu), batched along the
    inner dimension (device); operands may be transposed views, as weight gradients are."""
    rng = np.random.default_rng(seed)
    a = randn(rng, k, m, dtype=dtype).T if "a" in transpose else randn(rng, m, k, dtype=dtype)
    b = randn(rng, p, k, dtype=dtype).T if "b" in transpose else randn(rng, k, p, dtype=dtype)
    ha, hb = host(a).astype(np.float64), host(b).astype(np.float64)
    # within the rounding bound of k products summed in any order: k eps (|a| @ |b|)
    assert_near_sums(lambda: [engine.matmul(a, b)], [ha @ hb], [np.abs(ha) @ np.abs(hb)], k,
                     dtype)


@st.composite
def geometries(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    h, w = draw(st.integers(1, 9)), draw(st.integers(1, 9))
    assume(unfold.conv_output_size(h, kh, sh, ph) >= 1)
    assume(unfold.conv_output_size(w, kw, sw, pw) >= 1)
    return (n, h, w, c), (kh, kw), (sh, sw), (ph, pw), draw(dtypes), draw(st.integers(0, 2**16))


@FAST
@given(g=geometries())
def test_im2col_and_col2im(array_backend, tiny_pieces, g):
    """im2col is a copy and col2im adds each pixel's taps in the same order on every
    engine: the same bits. col2im_product multiplies blocks of rows: equal to rounding."""
    shape, kernel, stride, padding, dtype, seed = g
    rng = np.random.default_rng(seed)
    x = randn(rng, *shape, dtype=dtype)
    rows = shape[0] * unfold.conv_output_size(shape[1], kernel[0], stride[0], padding[0]) * \
        unfold.conv_output_size(shape[2], kernel[1], stride[1], padding[1])
    cols = randn(rng, rows, kernel[0] * kernel[1] * shape[3], dtype=dtype)
    a = randn(rng, rows, 3, dtype=dtype)
    b = randn(rng, 3, cols.shape[1], dtype=dtype)
    assert_engines_agree(lambda: (engine.im2col(x, kernel, stride, padding),
                                  engine.col2im(cols, shape, kernel, stride, padding)), exact=True)
    assert_engines_agree(lambda: engine.col2im_product(a, b, shape, kernel, stride, padding),
                         exact=False)


@FAST
@given(g=geometries(), ints=st.booleans())
def test_conv_geometry_is_the_definitions(g, ints):
    (n, h, w, c), (kh, kw), (sh, sw), (ph, pw), _, _ = g
    square = ints and (kh, sh, ph) == (kw, sw, pw)          # ints stand for square pairs
    args = (kh, sh, ph) if square else ((kh, kw), (sh, sw), (ph, pw))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1     # PyTorch's rule
    assert unfold.conv_geometry((n, h, w, c), *args) == ((kh, kw), (sh, sw), (ph, pw), (oh, ow))


@FAST
@given(g=geometries())
def test_col2im_is_the_adjoint_of_im2col(array_backend, g):
    """<im2col(x), c> == <x, col2im(c)> for random x and c (float64)."""
    shape, kernel, stride, padding, _, seed = g
    rng = np.random.default_rng(seed)
    x = randn(rng, *shape)
    cols = unfold.im2col(x, kernel, stride, padding)
    c = randn(rng, *cols.shape)
    left = float((cols * c).sum())
    right = float((x * unfold.col2im(c, shape, kernel, stride, padding)).sum())
    assert left == pytest.approx(right, rel=1e-12, abs=1e-12)


@FAST
@given(shape=st.lists(st.integers(1, 12), min_size=1, max_size=4), dtype=dtypes,
       seed=st.integers(0, 2**16))
def test_channel_sums_and_dots(array_backend, tiny_pieces, shape, dtype, seed):
    """Sums of n terms per channel: within n eps sum |term| of the exact sum on every engine
    and thread count (a sum that nearly cancels is only that exact)."""
    rng = np.random.default_rng(seed)
    a, b = randn(rng, *shape, dtype=dtype), randn(rng, *shape, dtype=dtype)
    c = shape[-1]
    ha, hb = host(a).astype(np.float64).reshape(-1, c), host(b).astype(np.float64).reshape(-1, c)
    assert_near_sums(lambda: [engine.channel_sums(a), engine.channel_dots(a, b)],
                     [ha.sum(axis=0), (ha * hb).sum(axis=0)],
                     [np.abs(ha).sum(axis=0), np.abs(ha * hb).sum(axis=0)], ha.shape[0], dtype)


def assert_near_sums(fn, exact, magnitude, n, dtype):
    """fn() on every engine (the CPU one on 1-3 threads, twice on 2) against the exact
    float64 results: |got - exact| <= n eps magnitude, the bound for a sum of n products
    in any order (magnitude: the sum of their absolute values); the CPU engine's runs on a
    given thread count are the same bits."""
    eps = float(np.finfo(dtype).eps)
    runs = [run_on("reference", fn), run_on("device", fn)]
    runs += [run_on("cpu", fn, count) for count in (1, 2, 3, 2)]
    for run in runs:
        for got, want, scale in zip(run, exact, magnitude, strict=True):
            assert got.dtype == dtype and got.shape == want.shape
            assert (np.abs(got - want) <= n * eps * scale).all()
    for a, b in zip(runs[3], runs[5]):
        np.testing.assert_array_equal(a, b)


RULES = {  # name: (rule, the arguments after the first array, as functions of (rng, shape, dtype))
    "relu": (A._relu, []),
    "relu_grad": (A._relu_grad, [lambda r, s, d: randn(r, *s, dtype=d)]),
    "leaky_relu": (A._leaky_relu, [lambda r, s, d: 0.2]),
    "leaky_relu_steep": (A._leaky_relu, [lambda r, s, d: 1.5]),
    "leaky_relu_grad": (A._leaky_relu_grad, [lambda r, s, d: randn(r, *s, dtype=d),
                                             lambda r, s, d: 0.2]),
    "tanh_grad": (A._tanh_grad, [lambda r, s, d: randn(r, *s, dtype=d)]),
    "sigmoid": (A._sigmoid, []),
    "normalize": (B._normalize, [lambda r, s, d: randn(r, s[-1], dtype=d),
                                 lambda r, s, d: randn(r, s[-1], dtype=d)]),
    "batch_norm_grad": (B._input_grad, [lambda r, s, d: randn(r, *s, dtype=d),
                                        lambda r, s, d: randn(r, s[-1], dtype=d),
                                        lambda r, s, d: randn(r, s[-1], dtype=d),
                                        lambda r, s, d: randn(r, s[-1], dtype=d)]),
    "upsample_sum": (UP._sum, [lambda r, s, d: randn(r, *s, dtype=d)] * 3),
    "avg_pool_mean": (POOL._mean, [lambda r, s, d: randn(r, *s, dtype=d)] * 3),
    "fade_blend": (FADE._blend, [lambda r, s, d: randn(r, *s, dtype=d), lambda r, s, d: 0.3]),
}

COLUMN_RULES = {  # rules whose later arguments include (R, 1) columns: one value per row
    "pixel_norm_scale": (PN._scale, ["column"]),
    "pixel_norm_project": (PN._project, ["full", "column", "column"]),
    "projection_product": (PROJECTION._product, ["column"]),
}


@FAST
@given(name=st.sampled_from(sorted(RULES)), shape=st.lists(st.integers(1, 9), min_size=1,
       max_size=4), dtype=dtypes, seed=st.integers(0, 2**16))
def test_elementwise_rules(array_backend, tiny_pieces, name, shape, dtype, seed):
    """Blocks of rows on threads, or whole: each element gets the same operations."""
    rule, extra = RULES[name]
    rng = np.random.default_rng(seed)
    args = [randn(rng, *shape, dtype=dtype)] + [make(rng, shape, dtype) for make in extra]
    assert_engines_agree(lambda: engine.elementwise(rule, *args), exact=True)


@FAST
@given(name=st.sampled_from(sorted(COLUMN_RULES)), rows=st.integers(1, 40),
       width=st.integers(1, 9), dtype=dtypes, seed=st.integers(0, 2**16))
def test_elementwise_rules_with_columns(array_backend, tiny_pieces, name, rows, width, dtype,
                                        seed):
    """A 2-d first argument (R, C) with (R, 1) columns among the others: cut into blocks of
    rows on the CPU, the columns cut with them; the same bits as the whole call."""
    rule, kinds = COLUMN_RULES[name]
    rng = np.random.default_rng(seed)
    args = [randn(rng, rows, width, dtype=dtype)] + [
        randn(rng, rows, width if kind == "full" else 1, dtype=dtype) for kind in kinds]
    assert_engines_agree(lambda: engine.elementwise(rule, *args), exact=True)


@FAST
@given(shape=st.lists(st.integers(1, 9), min_size=0, max_size=3), dtype=dtypes,
       seed=st.integers(0, 2**16))
def test_adam_update(array_backend, tiny_pieces, shape, dtype, seed):
    """Three updates in place, reused scratch on the CPU: the reference's bits."""
    rng = np.random.default_rng(seed)
    start = [randn(rng, *shape, dtype=dtype) for _ in range(3)]
    grads = [randn(rng, *shape, dtype=dtype) for _ in range(3)]

    def run():
        p, m, v = (a.copy() for a in start)
        v = v * v
        for t, g in enumerate(grads, 1):
            engine.adam_update(p, g, m, v, 1e-3 / (1 - 0.5 ** t), 0.5, 0.999,
                               (1 - 0.999 ** t) ** 0.5, 1e-8)
        return p, m, v

    assert_engines_agree(run, exact=True)


def test_the_dcgan_layers_on_every_engine():
    """The shapes of the DCGAN at batch 40, default thresholds: the big products and
    folds are split for real (several fold blocks per thread)."""
    rng = np.random.default_rng(1)
    x = randn(rng, 40, 14, 14, 64, dtype=np.float32)
    w = randn(rng, 5, 5, 64, 128, dtype=np.float32)
    gy = randn(rng, 40, 7, 7, 128, dtype=np.float32)
    C, CT = mg.functional.conv, mg.functional.conv_transpose

    def run():
        y, cache = C.conv2d_forward(x, w, None, 2, 2)
        gx, gw, _ = C.conv2d_backward(gy, cache)
        t, t_cache = CT.conv_transpose2d_forward(gy, w, None, 2, 2, 1)
        return (y, gx, gw, t, *CT.conv_transpose2d_backward(x, t_cache)[:2])

    assert_engines_agree(run, exact=False)


# A bias followed by BatchNorm has a zero gradient in exact arithmetic (the normalisation
# removes any per-channel constant), so what is computed for it is rounding noise, and
# Adam turns noise of any size into steps of about lr: such biases, their Adam moments and
# the running means of the BatchNorm layers after them (which average the bias in) differ
# between any two orders of summation. Nothing downstream sees it (the normalisation
# removes it again); everything else agrees to rounding.
NOISE_ONLY = ("G.2.bias", "D.2.bias", "opt_g.m.3", "opt_g.v.3", "opt_d.m.3", "opt_d.v.3",
              "G.3.running_mean", "D.3.running_mean")


def test_training_steps_on_every_engine():
    """Three full DCGAN steps (both players, Adam, BatchNorm's running statistics): every
    array of the trainer's state and the samples, on every engine and thread count."""
    real = np.tanh(np.random.default_rng(3).standard_normal((12, 28, 28, 1)))
    keys = []

    def run():
        rng = backend.default_rng(0)
        trainer = mg.gan.Trainer(mg.gan.dcgan_generator(rng=rng, dtype="float64"),
                                 mg.gan.dcgan_discriminator(rng=rng, dtype="float64"), seed=0)
        for _ in range(3):
            trainer.step(real)
        state = trainer.state_dict()
        keys[:] = [k for k in sorted(state) if hasattr(state[k], "shape")] + ["samples"]
        return [state[k] for k in keys[:-1]] + [trainer.sample(5)]

    reference = run_on("reference", run)
    runs = [run_on("device", run)] + [run_on("cpu", run, count) for count in (1, 2, 3)]
    for other in runs:
        for key, a, b in zip(keys, reference, other, strict=True):
            if key not in NOISE_ONLY:   # within 1e-9 of each array's scale
                scale = float(np.abs(a).max())
                np.testing.assert_allclose(b, a, rtol=0, atol=1e-9 * scale, err_msg=key)


# ---------------------------------------------------------------------------- engines per backend

def test_each_backend_gets_its_engine_and_only_numpy_splits(array_backend):
    parallel.set_threads(3)
    pieces = []
    threads.split(10, lambda a, b: pieces.append((a, b)))
    if backend.name == "numpy":
        assert engine.active().name == "cpu" and engine.sample_chunk() == 128
        assert sorted(pieces) == [(0, 3), (3, 6), (6, 10)]
    else:
        assert engine.active().name == "device" and engine.sample_chunk() is None
        assert pieces == [(0, 10)]


# ---------------------------------------------------------------------------- fresh results

def _layers(dtype):
    rng = backend.default_rng(0)
    return [
        (mg.nn.Conv2d(2, 3, 5, stride=2, padding=2, dtype=dtype, rng=rng), (4, 9, 9, 2)),
        (mg.nn.Conv2d(1, 4, 3, stride=1, padding=1, dtype=dtype, rng=rng), (3, 6, 6, 1)),
        (mg.nn.ConvTranspose2d(3, 2, 5, stride=2, padding=2, output_padding=1, dtype=dtype,
                               rng=rng), (4, 4, 4, 3)),
        (mg.nn.ConvTranspose2d(2, 3, 3, stride=1, padding=1, dtype=dtype, rng=rng),
         (2, 5, 5, 2)),
        (mg.nn.BatchNorm2d(2, dtype=dtype), (3, 4, 4, 2)),
        (mg.nn.LeakyReLU(0.2), (3, 4, 4, 2)),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_and_gradients_survive_later_calls(array_backend, tiny_pieces, dtype):
    """y1 = layer(x1); y2 = layer(x2): y1 unchanged; backward results unchanged by another
    backward; and the first call's results are what the layer computes again."""
    rng = np.random.default_rng(1)
    parallel.set_threads(2)
    for layer, shape in _layers(dtype):
        x1, x2 = randn(rng, *shape, dtype=dtype), randn(rng, *shape, dtype=dtype)
        y1 = layer.forward(x1)
        y1_copy = host(y1)
        gy1 = randn(rng, *y1.shape, dtype=dtype)
        gx1 = layer.backward(gy1)
        gx1_copy = host(gx1)
        y2 = layer.forward(x2)
        gx2 = layer.backward(randn(rng, *y2.shape, dtype=dtype))
        np.testing.assert_array_equal(host(y1), y1_copy, err_msg=repr(layer))
        np.testing.assert_array_equal(host(gx1), gx1_copy, err_msg=repr(layer))
        assert y1 is not y2 and gx1 is not gx2
        layer.zero_grad()
        if isinstance(layer, mg.nn.BatchNorm2d):
            continue  # its forward moved the running statistics; the rest is checked
        np.testing.assert_array_equal(host(layer.forward(x1)), y1_copy, err_msg=repr(layer))
        np.testing.assert_array_equal(host(layer.backward(gy1)), gx1_copy, err_msg=repr(layer))


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


# ---------------------------------------------------------------------------- sample passes

@pytest.mark.parametrize("model", ["dcgan", "conditional"])
def test_sample_in_passes_is_one_whole_eval_forward(array_backend, model, monkeypatch):
    """Trainer.sample generates ``sample_chunk`` samples per pass (eval mode: each image
    depends on its own z only): the result is G's whole-batch eval forward, for a count
    that is not a multiple of the pass, to float32 rounding; and the same call twice gives
    the same bits."""
    monkeypatch.setattr(cpu.CpuEngine, "sample_chunk", 16)
    monkeypatch.setattr(device.DeviceEngine, "sample_chunk", 16)
    rng = backend.default_rng(0)
    G, D = mg.gan.build_models(model, rng=rng)
    trainer = mg.gan.Trainer(G, D, seed=0)
    trainer.step(randn(np.random.default_rng(1), 8, 28, 28, 1, dtype=np.float32),
                 **({"labels": backend.xp.arange(8) % 10} if model == "conditional" else {}))
    z = trainer.noise(37, 5)
    labels = backend.xp.arange(37) % 10 if model == "conditional" else None
    passes = []
    generate = mg.gan.sampling.generate  # the forward pass Trainer.sample makes per chunk
    monkeypatch.setattr(mg.gan.sampling, "generate", lambda G, z, y: (passes.append(z.shape[0]),
                                                                      generate(G, z, y))[1])
    in_passes = host(trainer.sample(37, z=z, labels=labels))
    assert passes == [16, 16, 5]
    G.eval()
    whole = host(G.forward(z) if labels is None else G.forward(z, labels))
    G.train()
    assert in_passes.shape == whole.shape
    # Passes of 16 and one pass of 37 are different products: OpenBLAS (and cuBLAS) pick
    # their kernel and blocking by matrix size, so each pre-activation is rounded
    # differently, by a few float32 ulps of its size (4.7e-8 was measured on an AMD EPYC
    # with the Haswell kernel). tanh has slope <= 1, so the images in [-1, 1] differ by as
    # little; 1e-6 (about 8 ulps at 1) holds with room. A sample mixed up with another
    # (the wrong z, batch statistics instead of running ones) would differ by ~0.1.
    np.testing.assert_allclose(in_passes, whole, rtol=0, atol=1e-6)
    again = host(trainer.sample(37, z=z, labels=labels))  # the same computation: same bits
    np.testing.assert_array_equal(again, in_passes)


def test_a_generator_that_mixes_samples_is_run_whole(monkeypatch):
    """A generator with a MinibatchStdDev layer (its eval output depends on the batch) is
    not cut into passes: sample equals the whole-batch forward, which passes would not."""
    monkeypatch.setattr(cpu.CpuEngine, "sample_chunk", 4)
    rng = backend.default_rng(0)
    G = mg.nn.Sequential(mg.nn.Dense(3, 5, rng=rng), mg.nn.MinibatchStdDev(),
                         mg.nn.Dense(6, 2, rng=rng))
    D = mg.nn.Sequential(mg.nn.Dense(2, 1, rng=rng))
    trainer = mg.gan.Trainer(G, D, latent_dim=3, seed=0)
    z = trainer.noise(10, 5)
    G.eval()
    whole = host(G.forward(z))
    in_passes = np.concatenate([host(G.forward(z[i:i + 4])) for i in range(0, 10, 4)])
    G.train()
    assert not np.allclose(whole, in_passes)          # passes would change the result
    assert np.array_equal(host(trainer.sample(10, z=z)), whole)
