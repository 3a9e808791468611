"""minigan.parallel: chunked loops that are reproducible on any number of threads.

* ``chunks`` covers range(n) exactly once with disjoint pieces, runs them at once on
  distinct threads, raises a piece's exception only after every piece has finished,
  and does not nest;
* a region switches the BLAS to one thread and restores it, whatever happens inside;
* every function that splits its work -- conv forward, both conv gradients, the
  transposed conv, eval-mode BatchNorm, Adam -- and whole
  ``Trainer.step`` runs give the same bits run after run on a given thread count, and
  agree across 1, 2 and 3 threads: to the bit for elementwise functions, to float
  rounding where a GEMM is split (a piece may be done by another BLAS kernel, e.g.
  its vector kernel for a one-column product, which rounds differently);
* bad settings raise ``ConfigError``; other backends never split.
"""

import contextlib
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import backend, parallel
from minigan.errors import ConfigError
from minigan.functional import batchnorm as BN
from minigan.functional import conv as C
from minigan.functional import conv_transpose as CT

FAST = settings(deadline=None, max_examples=25)


@pytest.fixture(autouse=True)
def _default_threads():
    previous = parallel.set_threads(None)
    yield
    parallel.set_threads(previous)


def on_threads(count, fn):
    """fn() with ``count`` threads for minigan's chunks; results copied to the host."""
    parallel.set_threads(count)
    try:
        result = fn()
    finally:
        parallel.set_threads(None)
    return [None if a is None else backend.to_numpy(a).copy() for a in result]


def assert_reproducible_on_1_2_3_threads(fn, exact=False):
    """Run fn on 1, 2, 3 threads and on 2 again: the two 2-thread runs are identical;
    every run equals the 1-thread one to the bit (``exact``) or to float rounding (a
    few ulps of each array's scale: 1e-5 in float32, 1e-13 in float64)."""
    one = on_threads(1, fn)
    runs = {count: on_threads(count, fn) for count in (2, 3)}
    for a, b in zip(runs[2], on_threads(2, fn)):
        assert (a is None and b is None) or np.array_equal(a, b), "not reproducible"
    for count, run in runs.items():
        for a, b in zip(one, run):
            if a is None:
                assert b is None
                continue
            assert a.dtype == b.dtype and a.shape == b.shape
            if exact:
                assert np.array_equal(a, b), f"{count} threads differ from 1 thread"
            else:
                scale = float(np.abs(a).max()) if a.size else 0.0
                tol = (1e-5 if a.dtype == np.float32 else 1e-13) * max(scale, 1e-30)
                assert np.abs(a.astype(np.float64) - b).max(initial=0.0) <= tol, \
                    f"{count} threads differ from 1 thread beyond rounding"


# ---------------------------------------------------------------------------- chunks

@FAST
@given(n=st.integers(0, 50), count=st.integers(1, 5), min_size=st.integers(1, 8))
def test_chunks_cover_the_range_once_with_disjoint_pieces(n, count, min_size):
    parallel.set_threads(count)
    hits = np.zeros(n, dtype=int)
    pieces, lock = [], threading.Lock()

    def part(start, stop):
        with lock:
            pieces.append((start, stop))
        hits[start:stop] += 1

    parallel.chunks(n, part, min_size=min_size)
    assert (hits == 1).all()
    assert len(pieces) == max(1, min(count, n // min_size))
    assert all(stop - start >= min_size for start, stop in pieces) or len(pieces) == 1


def test_pieces_run_on_distinct_threads_at_once_and_do_not_nest():
    parallel.set_threads(3)
    together = threading.Barrier(3, timeout=10)  # broken unless 3 pieces run at once
    outer, inner = set(), []

    def part(start, stop):
        together.wait()
        outer.add(threading.get_ident())
        parallel.chunks(10, lambda a, b: inner.append((a, b)))  # inside a piece: one call

    parallel.chunks(3, part)
    assert len(outer) == 3
    assert sorted(inner) == [(0, 10)] * 3


def test_an_exception_in_a_piece_is_raised_after_every_piece_finished():
    parallel.set_threads(3)
    finished = []

    def part(start, stop):
        if start == 0:
            raise ValueError("piece 0 failed")
        threading.Event().wait(0.05)
        finished.append(start)

    with pytest.raises(ValueError, match="piece 0 failed"):
        parallel.chunks(3, part)
    assert sorted(finished) == [1, 2]


def test_region_runs_the_blas_single_threaded_and_restores_it():
    if parallel.blas_threads() is None:
        pytest.skip("the BLAS's thread count cannot be set here (not OpenBLAS)")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(2, user_api="blas"):
        assert parallel.blas_threads() == 2
        assert parallel.threads() == 2             # follows the BLAS by default
        with pytest.raises(RuntimeError):
            with parallel.region():
                assert parallel.blas_threads() == 1
                with parallel.region():            # nested: changes nothing
                    assert parallel.blas_threads() == 1
                assert parallel.threads() == 2
                raise RuntimeError("inside")
        assert parallel.blas_threads() == 2
    with threadpool_limits(1, user_api="blas"):
        assert parallel.threads() == 1             # one BLAS thread: no splitting


def test_bad_thread_settings_raise_config_error(monkeypatch):
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="positive int"):
            parallel.set_threads(bad)
    parallel.set_threads(None)
    monkeypatch.setenv("MINIGAN_NUM_THREADS", "two")
    with pytest.raises(ConfigError, match="MINIGAN_NUM_THREADS"):
        parallel.threads()
    monkeypatch.setenv("MINIGAN_NUM_THREADS", "3")
    assert parallel.threads() == 3


def test_other_backends_never_split(array_backend):
    parallel.set_threads(3)
    pieces = []
    parallel.chunks(10, lambda a, b: pieces.append((a, b)))
    expected = [(0, 10)] if backend.name != "numpy" else [(0, 3), (3, 6), (6, 10)]
    assert sorted(pieces) == expected


# ---------------------------------------------------------------------------- the same bits

@contextlib.contextmanager
def small_row_blocks(min_values):
    """over_rows splits arrays down to ``min_values`` values a block (default 65536), so
    that the small arrays of a test are split too."""
    default = parallel.over_rows.__defaults__
    parallel.over_rows.__defaults__ = (min_values,)
    try:
        yield
    finally:
        parallel.over_rows.__defaults__ = default


def randn(rng, *shape, dtype=np.float64):
    return backend.to_device(rng.standard_normal(shape).astype(dtype))


geometry = st.fixed_dictionaries({
    "n": st.integers(1, 7), "h": st.integers(3, 9), "w": st.integers(3, 9),
    "c_in": st.integers(1, 5), "c_out": st.integers(1, 6), "k": st.integers(1, 3),
    "stride": st.integers(1, 3), "padding": st.integers(0, 2),
    "dtype": st.sampled_from([np.float32, np.float64]), "seed": st.integers(0, 2 ** 16)})


@FAST
@given(g=geometry)
def test_conv_and_its_gradients_do_not_depend_on_the_thread_count(g):
    rng = np.random.default_rng(g["seed"])
    k, s, p, dt = g["k"], g["stride"], g["padding"], g["dtype"]
    x = randn(rng, g["n"], g["h"], g["w"], g["c_in"], dtype=dt)
    w = randn(rng, k, k, g["c_in"], g["c_out"], dtype=dt)
    b = randn(rng, g["c_out"], dtype=dt)
    oh, ow = C.conv_output_size(g["h"], k, s, p), C.conv_output_size(g["w"], k, s, p)
    if oh < 1 or ow < 1:
        return
    gy = randn(rng, g["n"], oh, ow, g["c_out"], dtype=dt)

    def run():
        y, cache = C.conv2d_forward(x, w, b, s, p)
        return (y, *C.conv2d_backward(gy, cache))

    assert_reproducible_on_1_2_3_threads(run)


@FAST
@given(g=geometry, output_padding=st.integers(0, 2))
def test_transposed_conv_does_not_depend_on_the_thread_count(g, output_padding):
    rng = np.random.default_rng(g["seed"])
    k, s, p, dt = g["k"], g["stride"], g["padding"], g["dtype"]
    op = min(output_padding, s - 1)
    x = randn(rng, g["n"], g["h"], g["w"], g["c_in"], dtype=dt)
    w = randn(rng, k, k, g["c_out"], g["c_in"], dtype=dt)
    b = randn(rng, g["c_out"], dtype=dt)
    oh = CT.conv_transpose_output_size(g["h"], k, s, p, op)
    ow = CT.conv_transpose_output_size(g["w"], k, s, p, op)
    if oh < 1 or ow < 1:
        return
    gy = randn(rng, g["n"], oh, ow, g["c_out"], dtype=dt)

    def run():
        y, cache = CT.conv_transpose2d_forward(x, w, b, s, p, op)
        return (y, *CT.conv_transpose2d_backward(gy, cache))

    assert_reproducible_on_1_2_3_threads(run)


def test_the_big_dcgan_layers_do_not_depend_on_the_thread_count():
    """The shapes the DCGAN uses (several col2im chunks per thread, batch 40)."""
    rng = np.random.default_rng(1)
    x = randn(rng, 40, 14, 14, 64, dtype=np.float32)
    w = randn(rng, 5, 5, 64, 128, dtype=np.float32)
    gy = randn(rng, 40, 7, 7, 128, dtype=np.float32)

    def run():
        y, cache = C.conv2d_forward(x, w, None, 2, 2)
        gx, gw, _ = C.conv2d_backward(gy, cache)
        t, t_cache = CT.conv_transpose2d_forward(gy, w, None, 2, 2, 1)
        return (y, gx, gw, t, *CT.conv_transpose2d_backward(x, t_cache)[:2])

    assert_reproducible_on_1_2_3_threads(run)


@FAST
@given(shape=st.lists(st.integers(0, 40), min_size=1, max_size=4),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_eval_batchnorm_does_not_depend_on_the_thread_count(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = randn(rng, *shape, dtype=dtype)
    c = shape[-1]
    gamma, beta = randn(rng, c, dtype=dtype), randn(rng, c, dtype=dtype)
    mean, var = randn(rng, c, dtype=dtype), backend.xp.abs(randn(rng, c, dtype=dtype)) + 0.1

    def run():
        return [BN.batch_norm_eval_forward(x, gamma, beta, mean, var)[0]]

    with small_row_blocks(4):
        assert_reproducible_on_1_2_3_threads(run, exact=True)


@FAST
@given(shape=st.lists(st.integers(1, 30), min_size=0, max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_adam_does_not_depend_on_the_thread_count(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    data = randn(rng, *shape, dtype=dtype)
    grads = [randn(rng, *shape, dtype=dtype) for _ in range(3)]

    def run():
        p = mg.nn.Parameter(data.copy())
        opt = mg.optim.Adam([p], lr=0.01)
        for g in grads:
            p.grad = g.copy()
            opt.step()
        return [p.data, opt.m[0], opt.v[0]]

    with small_row_blocks(2):
        assert_reproducible_on_1_2_3_threads(run, exact=True)


def test_training_steps_do_not_depend_on_the_thread_count():
    """Three full DCGAN steps (D and G, Adam, BatchNorm running stats): every array of
    the trainer's state, and samples, reproducible and equal to rounding on 1-3 threads."""
    real = np.tanh(np.random.default_rng(3).standard_normal((12, 28, 28, 1))).astype(np.float32)

    def run():
        rng = backend.default_rng(0)
        trainer = mg.gan.Trainer(mg.gan.dcgan_generator(rng=rng),
                                 mg.gan.dcgan_discriminator(rng=rng), seed=0)
        for _ in range(3):
            trainer.step(real)
        state = trainer.state_dict()
        return [state[k] for k in sorted(state) if hasattr(state[k], "shape")] + \
            [trainer.sample(5)]

    assert_reproducible_on_1_2_3_threads(run)
