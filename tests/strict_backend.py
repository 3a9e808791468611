"""A strict, CuPy-like array backend for testing minigan on a CPU-only machine.

Why this exists
---------------
minigan runs one code path on NumPy and on CuPy: the math looks up ``backend.xp``
and uses only the API the two share. On a machine without a GPU, nothing would
notice a stray ``np.exp`` in a layer, a hidden host round-trip, or a NumPy array
mixed into device math -- until somebody runs on a GPU. This module provides an
array type and an ``xp`` namespace that behave like CuPy *where it matters*, so
such mistakes fail a test here. Activate it with ``activate()`` / ``deactivate()``
or the ``strict_backend()`` context manager; the whole suite can run under it.

``StrictArray`` wraps a private NumPy array (it is not an ndarray subclass) and

refuses (``TypeError``, with a message that says what happened):
  * implicit conversion to NumPy: ``np.asarray(a)``, ``np.array(a)``, ``np.savez``
    (``__array__`` raises, as CuPy does);
  * any NumPy function or ufunc applied to it: ``np.sum(a)``, ``np.concatenate([a])``
    (``__array_function__`` raises, naming the function), ``np.exp(a)``,
    ``np.maximum(a, 0)`` (``__array_ufunc__ = None``: NumPy raises "operand
    'StrictArray' does not support ufuncs") -- stricter than CuPy on purpose: library
    math must call ``xp.`` functions;
  * mixing a ``numpy.ndarray`` (0-d included) into device math: operators, ``xp``
    function arguments (nested in lists/tuples, keyword arguments, ``out=``,
    ``where=``), index arrays and values in ``a[...] = v``;
  * Python lists/tuples as operator operands or ufunc inputs (CuPy refuses them);
  * ``xp.<ufunc>.at`` scatters (``np.add.at``): banned in minigan hot paths.

allows, as CuPy does:
  * Python scalars and NumPy scalars (``np.float32(2)``) as operands, on either side;
  * ``a.get()`` / ``xp.asnumpy(a)`` / ``backend.to_numpy(a)``: the explicit
    device->host copy; ``xp.asarray(host)`` / ``xp.array(host)``: host->device copy;
  * ``float(a)``, ``int(a)``, ``complex(a)`` on 0-d arrays and ``bool(a)`` on size-1
    ones, with NumPy 2's rules (they synchronise on a GPU: keep them to logged
    numbers), ``a.item()``, ``a.tolist()``, ``format(a, ".3f")``;
  * iteration over the first axis (yields StrictArrays, as CuPy does).

Results come back wrapped; NumPy scalars (full reductions, ``a[0, 0]``) come back as
0-d StrictArrays, as CuPy returns 0-d device arrays. Views stay views (slices,
``reshape``, ``as_strided``), in-place operators write through and return ``self``,
and an ``out=`` argument is returned as the very object that was passed.

``__index__`` is not provided, so a device scalar cannot silently become a Python
index (``range(n)``, a shape); ``.base`` and other rarely needed attributes are absent.
Python lists are still accepted where NumPy takes them in ``xp`` functions other than
ufuncs (``xp.sum([1, 2])`` works here though CuPy refuses it).

``count_operations()`` counts, while it is open, every operation on device arrays (each
``xp`` function and ufunc call, operator, forwarded method, index and assignment) by
name, with the shapes of every ``matmul``: what a GPU would launch, without a GPU.
"""

import collections
import contextlib
import functools
import operator
import types

import numpy

__all__ = ["StrictArray", "strict_xp", "activate", "deactivate", "strict_backend",
           "count_operations", "OperationLog"]

_SCALARS = (bool, int, float, complex, numpy.generic)


class OperationLog:
    """What ``count_operations`` saw: ``counts`` (a Counter of operation names) and
    ``products`` (the (a.shape, b.shape) of every matmul, in order)."""

    def __init__(self):
        self.counts = collections.Counter()
        self.products = []

    def total(self):
        return sum(self.counts.values())


_log = None   # the OperationLog of the open count_operations(), if any


@contextlib.contextmanager
def count_operations():
    """``with count_operations() as log:`` counts the operations of the block into ``log``."""
    global _log
    previous, _log = _log, OperationLog()
    try:
        yield _log
    finally:
        _log = previous


def _count(name, args=()):
    if _log is None:
        return
    _log.counts[name] += 1
    if name.endswith("matmul") and len(args) >= 2:
        _log.products.append(tuple(tuple(getattr(a, "shape", ())) for a in args[:2]))


def _mixed(where):
    return TypeError(
        f"strict backend: a numpy.ndarray was mixed into device math ({where}); convert "
        "it explicitly with backend.to_device(...) / xp.asarray(...) first"
    )


def _unwrap(obj, label, owners, context=None):
    """Replace StrictArrays by their NumPy arrays, recursively in lists and tuples.

    Refuses NumPy arrays (``label`` and ``context`` name the place in the message).
    ``owners`` maps id(ndarray) -> StrictArray so that a result that *is* an input
    (``out=``, a no-op ``astype``) comes back as that very input.
    """
    if isinstance(obj, StrictArray):
        owners[id(obj._a)] = obj
        return obj._a
    if isinstance(obj, numpy.ndarray):
        raise _mixed(label + (f" of {context}" if context else ""))
    if isinstance(obj, _Generator):
        return obj._gen
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_unwrap(x, f"{label}[{i}]", owners, context)
                         for i, x in enumerate(obj))
    return obj


def _unwrap_call(args, kwargs, name, owners):
    args = tuple(_unwrap(x, f"argument {i}", owners, name) for i, x in enumerate(args))
    kwargs = {k: _unwrap(v, f"argument {k}=", owners, name) for k, v in kwargs.items()}
    return args, kwargs


def _wrap(obj, owners=None):
    """Wrap NumPy results: arrays and scalars become StrictArrays (0-d for scalars)."""
    if isinstance(obj, numpy.ndarray):
        owner = (owners or {}).get(id(obj))
        return owner if owner is not None and owner._a is obj else StrictArray(obj)
    if isinstance(obj, numpy.generic):
        return StrictArray(numpy.asarray(obj))
    if isinstance(obj, numpy.random.Generator):
        return _Generator(obj)
    if isinstance(obj, tuple):
        items = [_wrap(x, owners) for x in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, list):
        return [_wrap(x, owners) for x in obj]
    return obj


def _strict_function(func, name):
    """Wrap a NumPy callable: unwrap StrictArray arguments, refuse ndarrays, wrap results."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        _count(name, args)
        owners = {}
        args, kwargs = _unwrap_call(args, kwargs, name, owners)
        return _wrap(func(*args, **kwargs), owners)

    return call


def _operand(other, op):
    """The NumPy-side value of an operator's other operand, or NotImplemented."""
    if isinstance(other, StrictArray):
        return other._a
    if isinstance(other, _SCALARS):
        return other
    if isinstance(other, numpy.ndarray):
        raise _mixed(f"operand of {op}")
    if isinstance(other, (list, tuple)):
        raise TypeError(f"strict backend: a Python {type(other).__name__} is not a valid "
                        f"operand of {op} (CuPy refuses sequences; use xp.asarray)")
    return NotImplemented


def _binary(op, reflected=False):
    def method(self, other):
        _count(f"operator.{op.__name__}", (other, self) if reflected else (self, other))
        value = _operand(other, op.__name__)
        if value is NotImplemented:
            return NotImplemented
        return _wrap(op(value, self._a) if reflected else op(self._a, value))
    return method


def _inplace(op):
    def method(self, other):
        _count(f"operator.{op.__name__}")
        value = _operand(other, op.__name__)
        if value is NotImplemented:
            return NotImplemented
        op(self._a, value)  # ndarray in-place operator: writes into self._a (and its base)
        return self
    return method


def _unary(op):
    def method(self):
        _count(f"operator.{op.__name__}")
        return _wrap(op(self._a))
    return method


def _forward(name):
    """An ndarray method forwarded to the wrapped array, with strict argument handling."""
    def method(self, *args, **kwargs):
        _count(f"StrictArray.{name}")
        owners = {id(self._a): self}
        args, kwargs = _unwrap_call(args, kwargs, f"StrictArray.{name}", owners)
        return _wrap(getattr(self._a, name)(*args, **kwargs), owners)
    method.__name__ = name
    return method


class StrictArray:
    """A device-array stand-in: a private NumPy array behind a CuPy-like, strict surface."""

    __slots__ = ("_a",)
    __hash__ = None

    def __init__(self, array):
        if not isinstance(array, numpy.ndarray):
            raise TypeError("StrictArray wraps a numpy.ndarray; use strict_xp.asarray(...)")
        self._a = array

    # -- refusals ------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "strict backend: implicit conversion of a device array to numpy.ndarray is "
            "not allowed (as in CuPy); use .get() or backend.to_numpy(...) explicitly"
        )

    # NumPy ufuncs refuse an operand whose __array_ufunc__ is None: `np.exp(a)`,
    # `np.maximum(a, 0)`, `np_array += a` raise TypeError ("operand 'StrictArray' does not
    # support ufuncs"). It also makes NumPy operators defer to ours, so that
    # `np.float32(2) * a` and `np.float32(0) < a` work (as in CuPy) and `np_array + a`
    # reaches __radd__, which reports the mix.
    __array_ufunc__ = None

    def __array_function__(self, func, types, args, kwargs):
        name = f"{func.__module__}.{func.__name__}".replace("numpy._core.", "numpy.")
        if any(issubclass(t, numpy.ndarray) for t in types):
            raise _mixed(f"{name} called with a numpy.ndarray and a device array")
        raise TypeError(f"strict backend: {name} was called on a device array; use "
                        f"xp.{func.__name__} (minigan.backend.xp) in device math, or convert "
                        "explicitly with .get() / backend.to_numpy(...) at the edges")

    # -- explicit conversions --------------------------------------------------------
    def get(self, stream=None):
        """A NumPy copy of the data: the explicit device->host transfer (as
        ``cupy.ndarray.get``)."""
        return self._a.copy()

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __bool__(self):
        return bool(self._a)

    def __complex__(self):
        return complex(self._a)

    def __repr__(self):
        return f"StrictArray({self._a!r})"

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a, spec)

    # -- attributes --------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    dtype = property(lambda self: self._a.dtype)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: StrictArray(self._a.T))

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        """Iterate over the first axis, yielding StrictArrays (CuPy does the same)."""
        for i in range(len(self._a)):
            yield self[i]

    # -- indexing ------------------------------------------------------------------------
    def __getitem__(self, key):
        _count("getitem")
        key = _unwrap(key, "index", {})
        result = self._a[key]
        if isinstance(result, numpy.generic):  # a[i, j]: a 0-d *view*, as CuPy returns
            result = self._a[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
        return StrictArray(result)

    def __setitem__(self, key, value):
        _count("setitem")
        self._a[_unwrap(key, "index", {})] = _unwrap(value, "assigned value", {})

    __neg__ = _unary(operator.neg)
    __pos__ = _unary(operator.pos)
    __abs__ = _unary(operator.abs)
    __invert__ = _unary(operator.invert)
    __divmod__ = _binary(divmod)
    __rdivmod__ = _binary(divmod, reflected=True)


# Arithmetic / bitwise operators: forward, reflected and in-place (which returns self).
for _name in ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul",
              "and", "or", "xor", "lshift", "rshift"]:
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(StrictArray, f"__{_name}__", _binary(_op))
    setattr(StrictArray, f"__r{_name}__", _binary(_op, reflected=True))
    setattr(StrictArray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}")))
for _name in ["eq", "ne", "lt", "le", "gt", "ge"]:
    setattr(StrictArray, f"__{_name}__", _binary(getattr(operator, _name)))
# ndarray methods, forwarded with strict argument handling.
for _name in ["reshape", "transpose", "astype", "copy", "sum", "mean", "var", "std", "max",
              "min", "prod", "argmax", "argmin", "cumsum", "fill", "ravel", "flatten",
              "swapaxes", "squeeze", "clip", "any", "all", "dot", "view", "item", "tolist",
              "nonzero", "repeat", "take", "round"]:
    setattr(StrictArray, _name, _forward(_name))
del _name, _op


class _Ufunc:
    """A NumPy ufunc behind the strict surface; ``.at`` (scatter) is refused."""

    def __init__(self, ufunc, name):
        self._ufunc, self.__name__ = ufunc, ufunc.__name__
        self._call = _strict_function(ufunc, name)
        for method in ("reduce", "accumulate", "outer", "reduceat"):
            setattr(self, method, _strict_function(getattr(ufunc, method), f"{name}.{method}"))

    def __call__(self, *args, **kwargs):
        for i, x in enumerate(args):
            if isinstance(x, (list, tuple)):
                raise TypeError(f"strict backend: argument {i} of xp.{self.__name__} is a "
                                "Python sequence; CuPy ufuncs need arrays or scalars")
        return self._call(*args, **kwargs)

    def at(self, *args, **kwargs):
        raise TypeError(f"strict backend: xp.{self.__name__}.at (a scatter-add) is banned in "
                        "minigan hot paths (slow, and CuPy has no twin); restructure the math")

    def __getattr__(self, attr):  # nin, nout, identity, types, ...
        return getattr(self._ufunc, attr)

    def __repr__(self):
        return f"<strict ufunc {self.__name__!r}>"


class _Generator:
    """``xp.random.default_rng(seed)``: a NumPy Generator whose results are StrictArrays."""

    def __init__(self, generator):
        self._gen = generator

    def __getattr__(self, attr):
        value = getattr(self._gen, attr)
        return _strict_function(value, f"Generator.{attr}") if callable(value) else value

    def __repr__(self):
        return f"<strict {self._gen!r}>"


class _Namespace(types.ModuleType):
    """A module mirroring a NumPy namespace; members are wrapped on first access."""

    def __init__(self, name, source, **overrides):
        super().__init__(name, getattr(source, "__doc__", None))
        self._source = source
        self.__dict__.update(overrides)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        try:
            value = getattr(self._source, attr)
        except AttributeError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}") from None
        qualname = f"{self.__name__}.{attr}"
        if isinstance(value, numpy.ufunc):
            value = _Ufunc(value, qualname)
        elif isinstance(value, types.ModuleType):
            value = _Namespace(qualname, value)
        elif callable(value) and not isinstance(value, type):  # dtypes, finfo pass through
            value = _strict_function(value, qualname)
        setattr(self, attr, value)  # cache
        return value


def _host_data(obj):
    """Python data / NumPy arrays / StrictArrays nested in lists, as NumPy-ready data."""
    if isinstance(obj, StrictArray):
        return obj._a
    if isinstance(obj, (list, tuple)):
        return [_host_data(x) for x in obj]
    return obj


def asarray(a, dtype=None, order=None):
    """Host data -> device (always a copy, as ``cupy.asarray``); a StrictArray is kept as is."""
    if isinstance(a, StrictArray):
        result = numpy.asarray(a._a, dtype=dtype, order=order)
        return a if result is a._a else StrictArray(result)
    return StrictArray(numpy.array(_host_data(a), dtype=dtype, order=order, copy=True))


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    """Like ``cupy.array``: accepts host data and device arrays; copies by default."""
    if isinstance(obj, StrictArray):
        result = numpy.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin)
        return obj if result is obj._a else StrictArray(result)
    return StrictArray(numpy.array(_host_data(obj), dtype=dtype, copy=True, order=order,
                                   ndmin=ndmin))


def asnumpy(a):
    """Device -> host copy (``cupy.asnumpy``); NumPy input is returned as an array."""
    return a.get() if isinstance(a, StrictArray) else numpy.asarray(a)


strict_xp = _Namespace(
    "strict_numpy", numpy,
    ndarray=StrictArray, asarray=asarray, array=array, asnumpy=asnumpy,
    get_array_module=lambda *args: strict_xp,
)
"""The strict array module: ``backend.xp`` while the strict backend is active."""


def activate():
    """Make ``strict_xp`` minigan's active backend; returns the previous (module, name)."""
    from minigan import backend

    previous = (backend.xp, backend.name)
    backend._activate(strict_xp, "strict")
    return previous


def deactivate(previous):
    """Restore the backend that ``activate()`` replaced."""
    from minigan import backend

    backend._activate(*previous)


@contextlib.contextmanager
def strict_backend():
    """``with strict_backend(): ...`` runs the block with ``strict_xp`` as ``backend.xp``."""
    previous = activate()
    try:
        yield strict_xp
    finally:
        deactivate(previous)
