"""Tests of the strict CuPy-like test backend itself (tests/strict_backend.py).

Each refusal and each permission is proven here, so that the rest of the suite can
trust that running under the strict backend catches stray ``np.`` calls, hidden
host round-trips and NumPy arrays mixed into device math.
"""

import copy

import numpy as np
import pytest
from strict_backend import StrictArray, activate, deactivate, strict_backend
from strict_backend import strict_xp as xp

from minigan import backend

MIXED = "numpy.ndarray was mixed into device math"


def dev(values, dtype=np.float64):
    return xp.asarray(np.asarray(values, dtype=dtype))


@pytest.fixture
def a():
    return dev(np.arange(12.0).reshape(3, 4) - 5.0)


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("convert", [np.asarray, np.array, np.ascontiguousarray,
                                     lambda x: np.savez("unused.npz", x=x)],
                         ids=["asarray", "array", "ascontiguousarray", "savez"])
def test_implicit_conversion_to_numpy_is_refused(a, convert):
    with pytest.raises(TypeError, match="strict backend"):
        convert(a)


@pytest.mark.parametrize("call", [
    lambda x: np.exp(x), lambda x: np.maximum(x, 0), lambda x: np.add(x, 1.0),
    lambda x: np.multiply(np.float32(2), x), lambda x: np.add.reduce(x),
], ids=["exp", "maximum", "add", "multiply-scalar-first", "add.reduce"])
def test_numpy_ufuncs_on_device_arrays_are_refused(a, call):
    with pytest.raises(TypeError, match="does not support ufuncs"):
        call(a)


@pytest.mark.parametrize("name, call", [
    ("numpy.sum", lambda x: np.sum(x)), ("numpy.sum", lambda x: float(np.sum(x))),
    ("numpy.concatenate", lambda x: np.concatenate([x, x])),
    ("numpy.mean", lambda x: np.mean(x)), ("numpy.reshape", lambda x: np.reshape(x, -1)),
    ("numpy.pad", lambda x: np.pad(x, 1)), ("numpy.where", lambda x: np.where(x > 0, x, 0)),
])
def test_numpy_functions_on_device_arrays_are_refused_by_name(a, name, call):
    with pytest.raises(TypeError, match=f"strict backend: {name} was called on a device"):
        call(a)


@pytest.mark.parametrize("mix", [
    lambda x: x + np.ones(4), lambda x: np.ones(4) + x, lambda x: x * np.array(2.0),
    lambda x: np.array(2.0) - x, lambda x: x @ np.ones((4, 2)), lambda x: x > np.zeros(4),
    lambda x: x.__iadd__(np.ones(4)),
], ids=["add", "radd", "mul-0d", "rsub-0d", "matmul", "gt", "iadd"])
def test_mixing_numpy_arrays_into_operators_is_refused(a, mix):
    with pytest.raises(TypeError, match=MIXED):
        mix(a)


def test_inplace_into_a_numpy_array_is_refused(a):
    host = np.ones((3, 4))
    with pytest.raises(TypeError):
        host += a
    with pytest.raises(TypeError):
        host[...] = a
    with pytest.raises(TypeError, match=MIXED):
        np.copyto(host, a)
    np.testing.assert_array_equal(host, 1.0)


@pytest.mark.parametrize("where, call", [
    ("argument out=", lambda x: xp.matmul(x, x.T, out=np.empty((3, 3)))),
    ("argument 1", lambda x: xp.matmul(x, np.ones((4, 2)))),
    ("argument 0[1]", lambda x: xp.concatenate([x, np.ones((3, 4))])),
    ("argument 0[0][1]", lambda x: xp.stack(((x, np.ones((3, 4))),))),
    ("argument where=", lambda x: xp.exp(x, where=np.ones((3, 4), bool))),
    ("argument out=", lambda x: xp.maximum(x, 0, out=np.empty((3, 4)))),
    ("argument 1", lambda x: xp.maximum(x, np.array(0.0))),
    ("argument out=", lambda x: x.sum(axis=0, out=np.empty(4))),
    ("argument 1", lambda x: xp.lib.stride_tricks.as_strided(x, np.array([2]))),
    ("argument 0", lambda x: xp.linalg.norm(np.ones(3))),
    ("index", lambda x: x[np.array([0, 1])]),
    ("assigned value", lambda x: x.__setitem__(0, np.ones(4))),
    ("assigned value", lambda x: x.__setitem__(0, np.array(1.0))),
])
def test_mixing_numpy_arrays_into_xp_calls_is_refused(a, where, call):
    with pytest.raises(TypeError, match=MIXED) as info:
        call(a)
    assert where in str(info.value)


def test_python_sequences_are_refused_as_operands_and_ufunc_inputs(a):
    with pytest.raises(TypeError, match="not a valid operand"):
        a + [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(TypeError, match="Python sequence"):
        xp.maximum([1.0, 2.0], 0)


def test_scatter_add_is_banned(a):
    with pytest.raises(TypeError, match="scatter-add.*banned"):
        xp.add.at(a, xp.asarray([0, 0]), 1.0)
    with pytest.raises(TypeError, match="banned"):
        xp.subtract.at(a, 0, 1.0)


def test_no_index_conversion_of_device_scalars():
    with pytest.raises(TypeError):
        range(xp.asarray(3))


def test_numpy_arrays_do_not_pass_as_device_arrays():
    assert not isinstance(np.ones(3), xp.ndarray)
    with pytest.raises(TypeError):
        StrictArray([1.0, 2.0])


# -- permissions ---------------------------------------------------------------------------


def test_python_and_numpy_scalars_mix_freely(a):
    ref = a.get()
    for result, expected in [
        (a + 2.0, ref + 2.0), (2.0 - a, 2.0 - ref), (a * np.float32(3), ref * np.float32(3)),
        (np.float32(3) * a, np.float32(3) * ref), (np.float64(1) / (a + 0.5), 1 / (ref + 0.5)),
        (a ** 2, ref ** 2), (np.float32(0) < a, np.float32(0) < ref), (-a, -ref),
        (abs(a), abs(ref)), (a // 2, ref // 2), (a % 3, ref % 3), (True & (a > 0), ref > 0),
    ]:
        assert isinstance(result, StrictArray)
        np.testing.assert_array_equal(result.get(), expected)


def test_get_and_asnumpy_return_host_copies(a):
    host = a.get()
    assert type(host) is np.ndarray
    host[...] = 99.0
    assert float(a[0, 0]) == -5.0
    assert type(xp.asnumpy(a)) is np.ndarray
    np.testing.assert_array_equal(xp.asnumpy(a), a.get())


def test_asarray_copies_host_data_and_keeps_device_arrays():
    host = np.ones(3)
    d = xp.asarray(host)
    host[0] = 5.0
    assert isinstance(d, StrictArray) and float(d[0]) == 1.0
    assert xp.asarray(d) is d
    assert xp.asarray(d, dtype=xp.float32).dtype == np.float32
    assert xp.array(d) is not d and xp.array(d)._a is not d._a
    np.testing.assert_array_equal(xp.asarray([[1, 2], [3, 4]]).get(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(xp.array([d, d]).get(), np.ones((2, 3)))


def test_python_scalar_conversions_of_size_one_arrays(a):
    s = a.sum()
    assert float(s) == 6.0 and int(s) == 6 and bool(s) is True
    assert complex(s) == 6 + 0j
    assert a[1, 2].item() == 1.0
    assert f"{a.max():.1f}" == "6.0"
    assert a.tolist() == a.get().tolist()
    with pytest.raises((TypeError, ValueError)):
        float(a)
    with pytest.raises(ValueError):
        bool(a)


def test_reductions_return_0d_device_arrays(a):
    for r in [a.sum(), a.mean(), a.var(), a.std(), a.max(), a.min(), a.any(), a.all(),
              xp.sum(a), xp.mean(a), xp.dot(a[0], a[1]), xp.linalg.norm(a), xp.add.reduce(a[0]),
              a[0, 0]]:
        assert isinstance(r, StrictArray) and r.ndim == 0, r
    assert float(xp.sum(a)) == pytest.approx(a.get().sum())


def test_integer_indexing_gives_a_writable_0d_view(a):
    v = a[1, 1]
    v[...] = 42.0
    assert float(a[1, 1]) == 42.0


def test_attributes(a):
    h = a.get()
    assert (a.shape, a.ndim, a.size, a.dtype, a.strides, a.itemsize, a.nbytes) == (
        h.shape, h.ndim, h.size, h.dtype, h.strides, h.itemsize, h.nbytes)
    assert a.flags.c_contiguous and not a.T.flags.c_contiguous
    assert len(a) == 3
    rows = list(a)
    assert all(isinstance(r, StrictArray) and r.shape == (4,) for r in rows)
    assert isinstance(a, xp.ndarray) and xp.__name__ == "strict_numpy"
    assert xp.float32 is np.float32 and xp.pi == np.pi and xp.newaxis is None and xp.inf == np.inf


def test_methods_match_numpy(a):
    h = a.get()
    cases = {
        "reshape": (a.reshape(4, 3), h.reshape(4, 3)), "T": (a.T, h.T),
        "transpose": (a.transpose(1, 0), h.transpose(1, 0)),
        "astype": (a.astype(np.float32), h.astype(np.float32)), "copy": (a.copy(), h.copy()),
        "sum": (a.sum(axis=0, keepdims=True), h.sum(axis=0, keepdims=True)),
        "mean": (a.mean(1), h.mean(1)), "var": (a.var(0), h.var(0)), "std": (a.std(), h.std()),
        "max": (a.max(1), h.max(1)), "min": (a.min(0), h.min(0)), "ravel": (a.ravel(), h.ravel()),
        "flatten": (a.flatten(), h.flatten()), "swapaxes": (a.swapaxes(0, 1), h.swapaxes(0, 1)),
        "squeeze": (a[None].squeeze(0), h[None].squeeze(0)),
        "clip": (a.clip(-1, 1), h.clip(-1, 1)),
        "any": (a.any(0), h.any(0)), "all": (a.all(1), h.all(1)), "dot": (a.dot(a.T), h.dot(h.T)),
        "view": (a.view(np.int64), h.view(np.int64)), "slice": (a[:, 1::2], h[:, 1::2]),
        "mask": (a[a > 0], h[h > 0]), "fancy": (a[xp.asarray([2, 0])], h[[2, 0]]),
        "matmul": (a @ a.T, h @ h.T), "divmod": (divmod(a, 3)[1], divmod(h, 3)[1]),
    }
    for name, (got, expected) in cases.items():
        assert isinstance(got, StrictArray), name
        assert got.dtype == expected.dtype, name
        np.testing.assert_array_equal(got.get(), expected, err_msg=name)


def test_astype_without_copy_and_fill(a):
    assert a.astype(np.float64, copy=False) is a
    b = a.copy()
    assert b.fill(3.0) is None
    np.testing.assert_array_equal(b.get(), 3.0)


# -- views and in-place writes -------------------------------------------------------------


def test_inplace_operators_keep_identity_and_modify_in_place(a):
    h = a.get()
    ident = id(a)
    a += 1.0
    a -= xp.ones(4)
    a *= 2.0
    a /= 4.0
    a **= 2
    h += 1.0
    h -= np.ones(4)
    h *= 2.0
    h /= 4.0
    h **= 2
    assert id(a) == ident
    np.testing.assert_array_equal(a.get(), h)
    m = xp.eye(4)
    before = id(m)
    m @= xp.full((4, 4), 2.0)
    assert id(m) == before
    np.testing.assert_array_equal(m.get(), np.full((4, 4), 2.0))


def test_views_write_through(a):
    b = a[:, ::2]
    b[...] = 1.0
    assert (a.get()[:, ::2] == 1.0).all()
    col = a[:, 1]
    col += 10.0
    np.testing.assert_array_equal(a.get()[:, 1], np.arange(3) * 4 - 4 + 10.0)
    a.T[0] *= 0.0
    assert (a.get()[:, 0] == 0.0).all()
    r = a.reshape(12)
    r[-1] = -7.0
    assert float(a[2, 3]) == -7.0
    a[a < 0] = 0.0
    assert (a.get() >= 0).all()


def test_as_strided_and_sliding_window_views_write_through():
    x = xp.zeros((2, 5, 5, 1))
    n, h, w, c = x.shape
    s = x.strides
    win = xp.lib.stride_tricks.as_strided(x, (n, h - 2, w - 2, 3, 3, c),
                                          (s[0], s[1], s[2], s[1], s[2], s[3]))
    assert isinstance(win, StrictArray)
    win[:, 1, 1, 0, 0, :] = 5.0
    assert float(x[0, 1, 1, 0]) == 5.0 and float(x[1, 1, 1, 0]) == 5.0
    win[0, 0, 0] += 1.0
    assert float(x[0, 2, 2, 0]) == 1.0
    sw = xp.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
    assert isinstance(sw, StrictArray) and sw.shape == (2, 3, 3, 1, 3, 3)
    np.testing.assert_array_equal(
        sw.get(), np.lib.stride_tricks.sliding_window_view(x.get(), (3, 3), axis=(1, 2)))


def test_out_arguments_write_into_and_return_the_given_array():
    a, b = dev(np.ones((2, 3))), dev(np.arange(6.0).reshape(3, 2))
    c = xp.empty((2, 2))
    assert xp.matmul(a, b, out=c) is c
    np.testing.assert_array_equal(c.get(), np.ones((2, 3)) @ np.arange(6.0).reshape(3, 2))
    y = xp.empty((2, 3))
    assert xp.maximum(a - 2.0, 0, out=y) is y
    np.testing.assert_array_equal(y.get(), 0.0)
    base = xp.zeros((2, 4))
    assert xp.multiply(a[:, :2], 3.0, out=base[:, 1:3]) is not None
    np.testing.assert_array_equal(base.get()[:, 1:3], 3.0)
    xp.copyto(base, 7.0)
    np.testing.assert_array_equal(base.get(), 7.0)


# -- namespace, rng, backend integration ---------------------------------------------------


def test_xp_functions_return_device_arrays_and_tuples(a):
    q, r = xp.linalg.qr(dev(np.eye(3) * 2))
    assert isinstance(q, StrictArray) and isinstance(r, StrictArray)
    rows, cols = xp.nonzero(a > 0)
    assert isinstance(rows, StrictArray)
    parts = xp.split(a, 2, axis=1)
    assert isinstance(parts, list) and all(isinstance(p, StrictArray) for p in parts)
    assert xp.result_type(a, np.float32) == np.float64
    assert xp.get_array_module(a) is xp


def test_a_computation_matches_numpy_exactly():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((8, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)

    def forward(mod, x, w, b):
        z = mod.matmul(x, w) + b
        y = mod.maximum(z, 0.2 * z)
        t = mod.tanh(mod.concatenate([y, -y], axis=1))
        p = mod.pad(t, ((1, 1), (0, 0)))
        return p.sum(axis=0) / p.shape[0], mod.exp(-mod.abs(z)).mean(), (z > 0).astype(x.dtype)

    ref = forward(np, x, w, b)
    got = forward(xp, xp.asarray(x), xp.asarray(w), xp.asarray(b))
    for g, r in zip(got, ref):
        assert isinstance(g, StrictArray)
        np.testing.assert_array_equal(g.get(), r)


def test_rng_returns_device_arrays_and_is_reproducible():
    def draw(seed):
        g = xp.random.default_rng(seed)
        return [g.standard_normal((3, 2), dtype=xp.float32), g.normal(0.0, 0.02, size=4),
                g.uniform(-1, 1, size=(2,)), g.random(3), g.integers(0, 10, size=5),
                g.permutation(6), g.permutation(xp.arange(4)), g.choice(5, size=2)]

    first, second = draw(7), draw(7)
    for u, v in zip(first, second):
        assert isinstance(u, StrictArray)
        np.testing.assert_array_equal(u.get(), v.get())
    assert first[0].dtype == np.float32
    np.testing.assert_array_equal(first[0].get(),
                                  np.random.default_rng(7).standard_normal((3, 2), np.float32))
    assert not np.array_equal(draw(8)[0].get(), first[0].get())
    x = xp.arange(10)
    xp.random.default_rng(0).shuffle(x)
    assert sorted(x.tolist()) == list(range(10)) and x.tolist() != list(range(10))


def test_activate_and_deactivate_switch_minigan_backend():
    prev = activate()
    try:
        assert backend.xp is xp and backend.name == "strict"
    finally:
        deactivate(prev)
    assert backend.xp is np and backend.name == "numpy"
    with strict_backend() as mod:
        assert mod is xp and backend.xp is xp
    assert backend.xp is np


def test_backend_conversions_under_the_strict_backend():
    with strict_backend():
        host = np.arange(6.0).reshape(2, 3)
        d = backend.to_device(host)
        assert isinstance(d, StrictArray) and backend.to_device(d) is d
        back = backend.to_numpy(d * 2.0)
        assert type(back) is np.ndarray
        np.testing.assert_array_equal(back, host * 2.0)
        assert backend.scalar(d.sum()) == 15.0
        g = backend.default_rng(3)
        assert isinstance(g.standard_normal(2), StrictArray)
        backend.seed(0)
        assert isinstance(backend.global_rng().random(2), StrictArray)


def test_copies_are_independent(a):
    c = copy.deepcopy(a)
    c[...] = 0.0
    assert float(a.max()) == 6.0
