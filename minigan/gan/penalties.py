"""Gradient penalties by handwritten double backprop: WGAN-GP and R1.

    gradient_penalty(D, x_hat) = weight * mean_n (||grad_x D(x_hat)_n|| - target)^2
                                                      (Gulrajani et al. 2017, WGAN-GP)
    r1_penalty(D, real)        = gamma / 2 * mean_n ||grad_x D(real)_n||^2
                                                      (Mescheder et al. 2018, R1)

A penalty on D's *input gradient* has a gradient with respect to D's parameters that passes
through D's backward pass: backprop through the backprop (what PyTorch does with
``create_graph=True``). With D = f_L o ... o f_1, h_0 = x, h_l = f_l(h_{l-1}) and each
layer's backward g_{l-1} = B_l(g_l; h_{l-1}, params_l), ``double_backprop`` runs

    1. forward            h_l = f_l(h_{l-1})                           l = 1 .. L
    2. backward           g_L = 1,  g_{l-1} = B_l(g_l)                 l = L .. 1
                          g_0 = grad_x D: sample n's row is grad of D(x)_n, as long as no
                          layer mixes samples (a BatchNorm critic is refused)
    3. the penalty        Pen(g_0) and v_0 = dPen/dg_0
    4. double backward    v_l = dPen/dg_l = J_l v_{l-1} (B_l is linear in g_l),
       in forward order   dPen/dparams_l (B_l's own parameters: a weight, LayerNorm's gamma),
                          u_{l-1} = dPen/dh_{l-1} through B_l's dependence on its input
                          (Tanh, Sigmoid, LayerNorm; none for the linear layers and ReLUs)
    5. backward of the u  an ordinary backward sweep whose upstream gradient gains u_{l-1}
                          at the input of layer l:  a_{l-1} = J_l^T a_l + u_{l-1},
                          dPen/dparams_l += the weight gradient of a_l;  a_0 = dPen/dx

Each layer's pieces of sweep 4 are derived next to its backward in ``minigan/functional/``;
the layers run on paths of their own (``minigan.nn.second_order``), so D's modules keep the
cache of their last forward and a penalty can run between a forward of D and its backward.
The derivation on a two-layer critic: docs/backprop_through_the_backprop.md.
"""

import dataclasses

from .. import backend
from ..errors import ShapeError
from ..nn.second_order import layer_paths
from ..validate import check_finite, check_floating, finite_number


@dataclasses.dataclass
class PenaltyResult:
    """What ``double_backprop`` computed: the penalty's value (a float), the norms
    ||grad_x D(x)_n|| (N,) on the backend, and dPen/dx (x's shape; None unless asked for)."""

    value: float
    norms: object
    input_grad: object = None

    @property
    def mean_norm(self):
        """The mean of ||grad_x D(x)_n|| over the batch, a float."""
        return float(self.norms.mean())


def input_gradient(D, x, caller="input_gradient"):
    """grad_x D(x)_n for every sample n: an array of x's shape (sweeps 1 and 2 above).

    D's modules keep their state and no parameter gradient is computed. x: (N, ...) as D
    takes it, float32 or float64; D returns one value per sample."""
    _check_input(caller, x)
    paths = layer_paths(D, caller)
    g = _ones_like_output(caller, _forward(paths, x), x)
    for path in reversed(paths):
        g = path.input_gradient(g)
    return g


def double_backprop(D, x, penalty, need_input_grad=False, caller="double_backprop"):
    """The five sweeps above for a penalty on D's input gradient; returns a ``PenaltyResult``
    and adds dPen/dparams into every parameter's ``.grad`` of D (frozen ones excepted).

    ``penalty(g)`` takes g = grad_x D(x), (N, ...), and returns (value as a 0-d array,
    dPen/dg of g's shape, the norms ||g_n|| (N,)): see ``gradient_penalty_term`` and
    ``r1_term``. ``need_input_grad``: also return dPen/dx."""
    _check_input(caller, x)
    paths = layer_paths(D, caller)
    # 1-2: forward, then the backward of sum_n D(x)_n: each path keeps its gy
    g = _ones_like_output(caller, _forward(paths, x), x)
    for path in reversed(paths):
        g = path.input_gradient(g)
    # 3: the penalty of the input gradient, and its gradient v = dPen/dg
    value, v, norms = penalty(g)
    # 4: double backward, in forward order; u[l] = dPen/dh_l from B_{l+1}'s input term
    input_terms = []
    for path in paths:
        v, u = path.double_backward(v)
        input_terms.append(u)
    # 5: an ordinary backward of those input terms, from the last layer that has one
    a = None
    for i in range(len(paths) - 1, -1, -1):
        if a is not None:
            a = paths[i].backward(a, need_input_grad=need_input_grad or i > 0)
        if input_terms[i] is not None:
            a = input_terms[i] if a is None else a + input_terms[i]
    if need_input_grad and a is None:
        a = backend.xp.zeros_like(x)
    return PenaltyResult(float(value), norms, a if need_input_grad else None)


def gradient_penalty_term(weight=10.0, target=1.0):
    """penalty(g) for WGAN-GP: weight * mean_n (||g_n|| - target)^2, as ``double_backprop``
    takes it."""
    weight = finite_number("gradient_penalty", "weight", weight, minimum=0)
    target = finite_number("gradient_penalty", "target", target, minimum=0)

    def penalty(g):
        xp = backend.xp
        n = g.shape[0]
        rows = g.reshape(n, -1)
        norms = xp.sqrt((rows * rows).sum(axis=1))                       # (N,)
        gap = norms - target
        # d/dg_n of weight/N (||g_n|| - t)^2 = 2 weight/N (||g_n|| - t) g_n / ||g_n||;
        # at g_n = 0 the direction g_n / ||g_n|| is taken as 0 (as PyTorch's norm does)
        positive = norms > 0
        inverse = xp.where(positive, 1 / xp.where(positive, norms, 1), 0)
        v = rows * ((2 * weight / n) * gap * inverse)[:, None]
        return weight * (gap * gap).mean(), v.reshape(g.shape), norms

    return penalty


def r1_term(gamma=10.0):
    """penalty(g) for R1: gamma / 2 * mean_n ||g_n||^2, as ``double_backprop`` takes it."""
    gamma = finite_number("r1_penalty", "gamma", gamma, minimum=0)

    def penalty(g):
        n = g.shape[0]
        squares = (g * g).reshape(n, -1).sum(axis=1)                    # (N,)
        # d/dg_n of gamma/(2N) ||g_n||^2 = gamma/N g_n
        return gamma / 2 * squares.mean(), g * (gamma / n), backend.xp.sqrt(squares)

    return penalty


def gradient_penalty(D, x_hat, weight=10.0, target=1.0):
    """WGAN-GP's penalty weight * mean_n (||grad_x D(x_hat)_n|| - target)^2 (a float).

    Adds its gradient into every parameter's ``.grad`` of D, as ``D.backward`` does; D's
    modules keep their state (the cache of their last forward). x_hat: images (N, H, W, C)
    or vectors (N, F), float32 or float64, usually eps x + (1 - eps) G(z) with one
    eps ~ U[0, 1] per sample (Gulrajani et al. 2017). D: a Sequential of layers that act
    on each sample alone (``minigan.nn.second_order``), returning one value per sample.
    """
    return double_backprop(D, x_hat, gradient_penalty_term(weight, target),
                           caller="gradient_penalty").value


def r1_penalty(D, real, gamma=10.0):
    """R1's penalty gamma / 2 * mean_n ||grad_x D(real)_n||^2 on real data (a float;
    Mescheder et al. 2018). Its gradient is added into D's parameters' ``.grad`` and D's
    state is kept, as for ``gradient_penalty``."""
    return double_backprop(D, real, r1_term(gamma), caller="r1_penalty").value


# -- the sweeps' pieces --------------------------------------------------------------------

def _check_input(caller, x):
    check_floating(caller, "x", x, "(N, H, W, C) or (N, F)")
    if x.ndim < 2:
        raise ShapeError(f"{caller}: x must be a batch (N, H, W, C) or (N, F), got shape "
                         f"{tuple(x.shape)}")
    check_finite(caller, "x", x)


def _forward(paths, x):
    for path in paths:
        x = path.forward(x)
    return x


def _ones_like_output(caller, out, x):
    """The upstream gradient 1 of sum_n D(x)_n; D must give one value per sample."""
    if out.size != x.shape[0]:
        raise ShapeError(f"{caller}: D must return one value per sample, (N, 1), for an "
                         f"input of N = {x.shape[0]}; it returned shape {tuple(out.shape)}")
    return backend.xp.ones_like(out)
