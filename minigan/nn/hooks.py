"""Hooks: functions a module calls each time it runs, to watch what flows through it.

``module.register_forward_hook(hook)`` has ``hook(module, inputs, output)`` called after
every forward of the module (``inputs``: the tuple of positional arguments, e.g. ``(x,)``
or ``(x, labels)``); ``module.register_backward_hook(hook)`` has
``hook(module, grad_input, grad_output)`` called after every backward (``grad_output``:
gy = dL/dy, the gradient that came in; ``grad_input``: dL/dx, what backward returned,
None where it was not computed). They are PyTorch's ``register_forward_hook`` and
``register_full_backward_hook``, with single arrays where PyTorch passes tuples of
gradients. A hook sees the very arrays forward and backward saw; it must not change them
(what it returns is ignored). Each registration returns a ``HookHandle``:
``handle.remove()`` unregisters that hook.

The hooks run in ``Module.run_forward`` and ``Module.run_backward``, the way every
container (``Sequential``, ``Fade``, ``SpectralNorm``, ...) and the trainer run their
modules; a layer does nothing for them.
"""

import itertools

from ..errors import ConfigError

_ids = itertools.count()


class HookHandle:
    """A registered hook; ``remove()`` unregisters it (a second remove does nothing)."""

    def __init__(self, hooks):
        self._hooks = hooks       # the module's {id: hook} dict the hook was put in
        self.id = next(_ids)

    def remove(self):
        self._hooks.pop(self.id, None)


def add_hook(hooks, hook, where):
    """Put ``hook`` into ``hooks`` (a module's {id: hook} dict); returns its handle."""
    if not callable(hook):
        raise ConfigError(f"{where}: a hook must be callable, got {type(hook).__name__}")
    handle = HookHandle(hooks)
    hooks[handle.id] = hook
    return handle
