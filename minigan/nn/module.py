"""Module: the stateful shell around a forward/backward pair of the functional core.

A module holds parameters (``Parameter`` attributes), buffers (arrays named in
``_buffer_names``, e.g. BatchNorm's running statistics), child modules, and the one
cache its last forward left for backward. Parameters, buffers and children are
found by attribute, in the order they were assigned, which fixes the order of
``parameters()`` and the dotted keys of ``state_dict()`` ("0.weight",
"2.running_mean"), as in PyTorch.

Three ways to run a module:

- ``layer(x)`` (``__call__``) -- the user-level call: it checks that every floating
  array argument is finite (no NaN, no infinity; one pass over the input and one host
  sync) and raises ``NonFiniteError`` naming the module, then runs ``run_forward``.
- ``layer.run_forward(x)`` / ``layer.run_backward(gy)`` -- the unchecked path:
  ``forward`` / ``backward``, then the module's hooks (``hooks.py``). Containers
  (``Sequential``, ``LabelConditioned``, ...) and the ``Trainer`` run their children
  this way, so the inputs of a network are checked once at the top, not once per layer,
  and hooks fire for every module; a NaN produced *inside* a network (e.g. by a NaN
  weight) is not reported by the layers (the trainer's loss and gradient-norm checks
  catch it before any update).
- ``layer.forward(x)`` / ``layer.backward(gy)`` -- the layer's own computation, which
  each layer defines: no check of finiteness, no hooks.

All validate types, dtypes (float32 or float64), shapes and empty batches.

What a backward needs from its forward is the module's own business; code that runs a
module outside the training step's order uses the public handles: ``save_backward_state``
/ ``restore_backward_state`` (keep a pending backward's cache across a block of other
forwards), ``clear_backward_state`` (forget it after an inference-only pass),
``computes_param_grads`` and ``accumulate_param_grads`` (for code that runs the functional
core's backward rules itself, such as ``second_order.py``).
"""

from .. import backend
from ..errors import ShapeError, StateError
from ..validate import all_finite, dtype_problem, non_finite_error
from .hooks import add_hook
from .parameter import Parameter


class Module:
    _buffer_names = ()
    _nonnegative_buffers = ()  # buffers no state can make negative (BatchNorm's variance)

    def __init__(self):
        self.training = True
        self._cache = None
        self._forward_hooks = {}      # {handle id: hook(module, inputs, output)}
        self._backward_hooks = {}     # {handle id: hook(module, grad_input, grad_output)}

    # -- computation --------------------------------------------------------
    def __call__(self, *args, **kwargs):
        """``forward(*args, **kwargs)`` after checking every floating array argument
        is finite (see the module docstring; ``forward`` is the unchecked path)."""
        xp = backend.xp
        named = [("the input" if i == 0 else f"argument {i}", a) for i, a in enumerate(args)]
        for name, value in named + [(f"argument {k}", v) for k, v in kwargs.items()]:
            # float32/float64 only: forward refuses other dtypes with a DTypeError
            if (isinstance(value, xp.ndarray) and dtype_problem(value.dtype) is None
                    and not all_finite(value)):
                raise non_finite_error(self._where(), name, value)
        return self.run_forward(*args, **kwargs)

    def run_forward(self, *args, **kwargs):
        """``forward(*args, **kwargs)``, then every forward hook with (self, args, output)."""
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:  # most calls have none: no list to build on the hot path
            for hook in list(self._forward_hooks.values()):
                hook(self, args, output)
        return output

    def run_backward(self, gy, need_input_grad=True):
        """``backward(gy, need_input_grad)``, then every backward hook with (self, the
        returned input gradient, gy)."""
        grad_input = self.backward(gy, need_input_grad)
        if self._backward_hooks:
            for hook in list(self._backward_hooks.values()):
                hook(self, grad_input, gy)
        return grad_input

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after each forward of this module run by
        ``run_forward`` (or the checked call); returns a handle with ``remove()``."""
        return add_hook(self._forward_hooks, hook, f"{type(self).__name__}.register_forward_hook")

    def register_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` after each backward of this module
        run by ``run_backward``; returns a handle with ``remove()``."""
        return add_hook(self._backward_hooks, hook,
                        f"{type(self).__name__}.register_backward_hook")

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, gy, need_input_grad=True):
        """Return dL/dx from gy = dL/dy and add dL/dparam into each ``p.grad``.

        With ``need_input_grad=False`` the input gradient is skipped and None is
        returned (used for a network's first layer). Parameters with
        ``requires_grad=False`` get no gradient computed.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def _remember(self, y, cache):
        """Keep what backward needs, and the output shape to check gy against; return y."""
        self._cache = cache
        self._output_shape = tuple(y.shape)
        return y

    def _take_cache(self, gy):
        """The cache of the last forward (consumed) after checking gy's shape."""
        if self._cache is None:
            raise StateError(f"{self!r}: backward called without a preceding forward "
                             "(or twice for one forward)")
        if tuple(gy.shape) != self._output_shape:
            raise ShapeError(f"{self!r}: backward expected a gradient of shape "
                             f"{self._output_shape} (the forward output), got {tuple(gy.shape)}")
        cache, self._cache = self._cache, None
        return cache

    def accumulate_param_grads(self, **gradients):
        """p.grad += g for each named parameter of this module (``weight=gw, bias=gb``)
        that exists and requires a gradient; the others' gradients are ignored."""
        for name, gradient in gradients.items():
            parameter = getattr(self, name)
            if parameter is not None and parameter.requires_grad:
                parameter.accumulate(gradient)

    @property
    def computes_param_grads(self):
        """Whether backward computes gradients for this module's own parameters: True when
        at least one of them requires a gradient (False when frozen or without any)."""
        return any(p.requires_grad for p in self._own_parameters())

    # the layers' short names for the two above, used on themselves
    def _accumulate(self, **gradients):
        self.accumulate_param_grads(**gradients)

    def _needs_param_grads(self):
        return self.computes_param_grads

    # -- what backward needs, kept and restored -------------------------------
    def save_backward_state(self):
        """What the backward of this module and of every module inside it needs from
        their last forward (the caches and output shapes), as a ``BackwardState`` for
        ``restore_backward_state``: a block may then run other forwards and backwards on
        the module without disturbing a backward still to come. ``state.cache`` is this
        module's own cache (None when no backward is pending)."""
        return BackwardState(self, [(m, m._cache, getattr(m, "_output_shape", None))
                                    for m in self.modules()])

    def restore_backward_state(self, state):
        """Put back what ``save_backward_state`` kept (of this very module)."""
        if not isinstance(state, BackwardState) or state.module is not self:
            raise StateError(f"{self!r}.restore_backward_state: expected the BackwardState "
                             f"that this module's save_backward_state returned, got {state!r}")
        for module, cache, output_shape in state.entries:
            module._cache, module._output_shape = cache, output_shape

    def clear_backward_state(self):
        """Forget what the last forward of this module and of every module inside it kept
        for backward (after forwards that no backward follows: frees those arrays). A
        backward then raises ``StateError``, as without a forward."""
        for module in self.modules():
            module._cache = None

    # -- structure ----------------------------------------------------------
    def named_children(self):
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self):
        return [child for _, child in self.named_children()]

    def modules(self):
        """This module and every module inside it, depth first (parents before children)."""
        yield self
        for child in self.children():
            yield from child.modules()

    def _own_parameters(self):
        return [v for v in vars(self).values() if isinstance(v, Parameter)]

    def named_parameters(self, prefix=""):
        """(dotted name, Parameter) pairs, this module's first, then each child's."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_parameters(prefix + name + ".")

    def parameters(self):
        """All trainable parameters, in a deterministic order."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for name in self._buffer_names:
            yield prefix + name, getattr(self, name)
        for name, child in self.named_children():
            yield from child.named_buffers(prefix + name + ".")

    # -- modes and gradients ------------------------------------------------
    def train(self, mode=True):
        """Training mode (BatchNorm uses batch statistics). Returns self."""
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode (BatchNorm uses running statistics). Returns self."""
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def freeze(self):
        """Mark every parameter ``requires_grad=False``: backward still returns input
        gradients but computes no weight gradients. Returns self."""
        for p in self.parameters():
            p.requires_grad = False
        return self

    def unfreeze(self):
        for p in self.parameters():
            p.requires_grad = True
        return self

    # -- state --------------------------------------------------------------
    def state_dict(self):
        """{dotted name: copy of the array} for every parameter and buffer."""
        return {name: array.copy() for name, array in self._named_state()}

    def _named_state(self, prefix=""):
        """(dotted name, array) for parameters then buffers, module by module, as PyTorch."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value.data
        for name in self._buffer_names:
            yield prefix + name, getattr(self, name)
        for name, child in self.named_children():
            yield from child._named_state(prefix + name + ".")

    def load_state_dict(self, state):
        """Copy arrays from ``state`` (NumPy or device arrays) into this module, in place.

        All or nothing: every value is checked before any is copied -- keys must match
        exactly, shapes agree, values be real numbers (not complex, strings or objects)
        that are finite in the module's dtype (1e300 is not, in float32), and a buffer no
        training can make negative (BatchNorm's ``running_var``) not negative. The first
        problem is a ``StateError`` naming the entry; the module is then unchanged.
        """
        where = f"{type(self).__name__}.load_state_dict"
        targets = dict(self._named_state())
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        if missing or unexpected:
            raise StateError(f"{where}: keys do not match: "
                             f"missing {missing}, unexpected {unexpected}")
        nonnegative = set(self._nonnegative_names())
        values = {}
        for name, target in targets.items():  # check everything before changing anything
            given = state[name]
            shape, dtype = getattr(given, "shape", None), getattr(given, "dtype", None)
            if shape is None or dtype is None:
                raise StateError(f"{where}: '{name}' is {type(given).__name__}, expected an "
                                 f"array of shape {tuple(target.shape)}")
            if tuple(shape) != tuple(target.shape):
                raise StateError(f"{where}: '{name}' has shape "
                                 f"{tuple(shape)}, expected {tuple(target.shape)}")
            if dtype.kind not in "fiu":
                raise StateError(f"{where}: '{name}' has dtype {dtype}, expected real numbers "
                                 f"({target.dtype})")
            value = backend.to_device(given).astype(target.dtype, copy=False)
            xp = backend.xp
            if value.dtype.kind == "f" and not bool(xp.isfinite(value).all()):
                bad = int(value.size - int(xp.isfinite(value).sum()))
                raise StateError(f"{where}: '{name}': {bad} of {value.size} values are NaN or "
                                 f"infinite in {target.dtype}")
            if name in nonnegative and bool((value < 0).any()):
                raise StateError(f"{where}: '{name}' holds negative values; a variance is "
                                 ">= 0")
            values[name] = value
        for name, target in targets.items():
            backend.xp.copyto(target, values[name])

    def _nonnegative_names(self, prefix=""):
        for name in self._nonnegative_buffers:
            yield prefix + name
        for name, child in self.named_children():
            yield from child._nonnegative_names(prefix + name + ".")

    def extra_repr(self):
        return ""

    def _where(self):
        """The module's name in error messages (one line)."""
        return repr(self)

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


class BackwardState:
    """What ``Module.save_backward_state`` kept: the module, its own ``cache``, and (in
    ``entries``) each inner module's cache and output shape, to be put back as they were."""

    def __init__(self, module, entries):
        self.module = module
        self.entries = entries

    @property
    def cache(self):
        """The module's own cache at the time it was saved (None: no backward pending)."""
        return self.entries[0][1]

    def __repr__(self):
        return f"BackwardState({self.module!r}, {len(self.entries)} modules)"
