"""Optimizers over lists of Parameters, updating ``p.data`` in place.

The update rules are PyTorch's (so runs can be compared step for step):

SGD:   b <- momentum * b + g   (b = g on the first step);   p <- p - lr * b
Adam:  m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2;   t <- t + 1
       p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
RMSprop: v <- a v + (1 - a) g^2;   p <- p - lr * g / (sqrt(v) + eps)
With ``weight_decay`` w, g is replaced by g + w p (L2 regularisation) in all three.
Parameters with ``requires_grad=False`` are skipped.
"""

import math

from . import backend, engine
from .errors import ConfigError, StateError
from .nn.parameter import Parameter
from .validate import finite_number


class Optimizer:
    def __init__(self, params, lr):
        name = type(self).__name__
        try:
            params = list(params)
        except TypeError:
            raise ConfigError(f"{name}: params must be a list of Parameters (use "
                              f"model.parameters()), got {type(params).__name__}") from None
        if not params:
            raise ConfigError(f"{name}: got an empty parameter list")
        for i, p in enumerate(params):
            if not isinstance(p, Parameter):
                raise ConfigError(f"{name}: item {i} of params is {type(p).__name__}, "
                                  "expected a minigan Parameter (use model.parameters())")
        finite_number(name, "lr", lr, minimum=0.0)
        self.params = params
        self.lr = lr

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def _gradient(self, p, weight_decay):
        return p.grad if weight_decay == 0 else p.grad + weight_decay * p.data


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball) momentum."""

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        finite_number("SGD", "momentum", momentum, minimum=0.0)
        finite_number("SGD", "weight_decay", weight_decay, minimum=0.0)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.buffers = [None] * len(self.params)

    def step(self):
        for i, p in enumerate(self.params):
            if not p.requires_grad:
                continue
            g = self._gradient(p, self.weight_decay)
            if self.momentum:
                if self.buffers[i] is None:
                    self.buffers[i] = g.copy()
                else:
                    self.buffers[i] *= self.momentum
                    self.buffers[i] += g
                g = self.buffers[i]
            p.data -= self.lr * g

    def state_dict(self):
        state = {"lr": self.lr, "momentum": self.momentum}
        state.update({f"buffer.{i}": b.copy() for i, b in enumerate(self.buffers)
                      if b is not None})
        return state

    def load_state_dict(self, state):
        lr, momentum = _rate(state, "lr"), _rate(state, "momentum")
        buffers = [_matching(state, f"buffer.{i}", p) if f"buffer.{i}" in state else None
                   for i, p in enumerate(self.params)]
        self.lr, self.momentum, self.buffers = lr, momentum, buffers


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; DCGAN's betas (0.5, 0.999) by default."""

    def __init__(self, params, lr=2e-4, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ConfigError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            finite_number("Adam", f"betas[{i}]", beta, minimum=0.0, below=1.0)
        finite_number("Adam", "eps", eps, minimum=0.0)
        finite_number("Adam", "weight_decay", weight_decay, minimum=0.0)
        self.betas = tuple(betas)
        self.eps = eps
        self.weight_decay = weight_decay
        xp = backend.xp
        self.m = [xp.zeros_like(p.data) for p in self.params]
        self.v = [xp.zeros_like(p.data) for p in self.params]
        self.t = 0

    def step(self):
        beta1, beta2 = self.betas
        self.t += 1
        step_size = self.lr / (1 - beta1 ** self.t)
        root_correction = math.sqrt(1 - beta2 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            if p.requires_grad:
                engine.adam_update(p.data, self._gradient(p, self.weight_decay), m, v,
                                   step_size, beta1, beta2, root_correction, self.eps)

    def state_dict(self):
        state = {"lr": self.lr, "t": self.t}
        for i, (m, v) in enumerate(zip(self.m, self.v)):
            state[f"m.{i}"] = m.copy()
            state[f"v.{i}"] = v.copy()
        return state

    def load_state_dict(self, state):
        m = [_matching(state, f"m.{i}", p) for i, p in enumerate(self.params)]
        v = [_matching(state, f"v.{i}", p, nonnegative=True) for i, p in enumerate(self.params)]
        lr, t = _rate(state, "lr"), _count(state, "t")
        self.m, self.v = m, v
        self.lr, self.t = lr, t


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012) as PyTorch's (no momentum, not centred): each
    parameter's step is its gradient divided by a running root-mean-square of it. WGAN's
    optimizer (Arjovsky et al. 2017: lr 5e-5): momentum-based steps made the clipped
    critic unstable in their experiments."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        finite_number("RMSprop", "alpha", alpha, minimum=0.0, maximum=1.0)
        finite_number("RMSprop", "eps", eps, minimum=0.0)
        finite_number("RMSprop", "weight_decay", weight_decay, minimum=0.0)
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.v = [backend.xp.zeros_like(p.data) for p in self.params]

    def step(self):
        xp = backend.xp
        for p, v in zip(self.params, self.v):
            if not p.requires_grad:
                continue
            g = self._gradient(p, self.weight_decay)
            v *= self.alpha
            v += (1 - self.alpha) * (g * g)             # v = a v + (1 - a) g^2
            p.data -= self.lr * (g / (xp.sqrt(v) + self.eps))

    def state_dict(self):
        state = {"lr": self.lr}
        state.update({f"v.{i}": v.copy() for i, v in enumerate(self.v)})
        return state

    def load_state_dict(self, state):
        v = [_matching(state, f"v.{i}", p, nonnegative=True) for i, p in enumerate(self.params)]
        self.lr, self.v = _rate(state, "lr"), v


OPTIMIZERS = {"adam": Adam, "rmsprop": RMSprop}
"""The optimizers a Trainer can use, by name."""


def make_optimizer(where, name, params, lr, betas):
    """The optimizer ``name`` ("adam" with ``betas``, or "rmsprop", which has none) over
    ``params``; ``where`` names the caller in the error for another name."""
    if name == "adam":
        return Adam(params, lr=lr, betas=betas)
    if name == "rmsprop":
        return RMSprop(params, lr=lr)
    raise ConfigError(f"{where}: optimizer must be one of {sorted(OPTIMIZERS)}, got {name!r}")


def _required(state, key):
    if key not in state:
        raise StateError(f"optimizer state has no '{key}'")
    return state[key]


def _rate(state, key):
    """A learning rate or momentum: a finite real number >= 0 (as a fresh optimizer's)."""
    value = _required(state, key)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, (bool, str)) or not (math.isfinite(number) and number >= 0):
        raise StateError(f"optimizer state '{key}': expected a finite number >= 0, got "
                         f"{value!r:.40}")
    return number


def _count(state, key):
    """A step counter: an integer >= 0."""
    value = _required(state, key)
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not (whole or (kind in "iu" if kind else False)) or int(value) < 0:
        raise StateError(f"optimizer state '{key}': expected an integer >= 0, got "
                         f"{value!r:.40}")
    return int(value)


def _matching(state, key, p, nonnegative=False):
    if key not in state:
        raise StateError(f"optimizer state has no '{key}'")
    given = state[key]
    if getattr(getattr(given, "dtype", None), "kind", None) not in ("f", "i", "u"):
        raise StateError(f"optimizer state '{key}': expected a real array of shape "
                         f"{tuple(p.data.shape)}, got {type(given).__name__} "
                         f"{getattr(given, 'dtype', '')}")
    value = backend.to_device(given)
    if tuple(value.shape) != tuple(p.data.shape):
        raise StateError(f"optimizer state '{key}' has shape {tuple(value.shape)}, "
                         f"expected {tuple(p.data.shape)}")
    value = value.astype(p.data.dtype, copy=True)
    finite = backend.xp.isfinite(value)
    if not bool(finite.all()):
        raise StateError(f"optimizer state '{key}': {int(value.size - int(finite.sum()))} of "
                         f"{value.size} values are NaN or infinite in {p.data.dtype}")
    if nonnegative and bool((value < 0).any()):
        raise StateError(f"optimizer state '{key}' holds negative values; a second moment "
                         "is >= 0")
    return value

