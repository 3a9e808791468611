"""Grader of the G step exercise: the generator's gradient through a frozen discriminator.

Small float64 networks with BatchNorm in both (so that switching D to eval mode changes
the answer), G's .grad holding stale values and D's .grad holding marked ones before the
call. The reference is the library's G step (``Trainer``'s, without the optimizer step):
``D.freeze()``, ``D.backward``, ``D.unfreeze()``, ``G.zero_grad()``, ``G.backward``; the
finite-difference check is a directional derivative of the loss over all of G's
parameters.
"""

import numpy as np

from .. import backend, losses, nn
from .diagnose import Wrong, check_array, relative_error
from .grading import FD_TOLERANCE, run, student_function

_EVAL = ("the loss and gradients are those of D in eval mode: frozen never means eval, D's "
         "BatchNorm must use the batch statistics in the G step")


def _networks(seed):
    rng = backend.default_rng(seed)
    kw = {"dtype": "float64", "rng": rng}
    G = nn.Sequential(nn.Dense(3, 8, **kw), nn.BatchNorm1d(8, dtype="float64"), nn.ReLU(),
                      nn.Dense(8, 5, **kw), nn.Tanh())
    D = nn.Sequential(nn.Dense(5, 7, **kw), nn.BatchNorm1d(7, dtype="float64"),
                      nn.LeakyReLU(0.2), nn.Dense(7, 1, **kw))
    for p in D.parameters():  # BatchNorm starts at gamma 1, beta 0: make it less special
        p.data += 0.3 * rng.standard_normal(p.data.shape)
    return G, D


def _reference(G, D, z, d_eval=False):
    """(loss, G's gradients) of the G step, as the library's trainer computes them."""
    if d_eval:
        D.eval()
    loss = losses.BCEWithLogits()
    value = loss(D(G(z)), 1.0)
    D.freeze()
    grad_fake = D.backward(loss.backward())
    D.unfreeze()
    D.train()
    G.zero_grad()
    G.backward(grad_fake)
    return value, [p.grad.copy() for p in G.parameters()]


def _loss_at(G, D, z):
    return losses.BCEWithLogits()(D(G(z)), 1.0)


def grade_g_step_gradients(module, path, rng):
    fn = student_function(module, path, "g_step_gradients", None)
    worst = fd = 0.0
    for case in range(3):
        seed = int(rng.integers(0, 2**31))
        n = [4, 1, 7][case] if case else 4
        G, D = _networks(seed)
        G_ref, D_ref = _networks(seed)
        z = np.random.default_rng(seed).standard_normal((max(n, 2), 3))
        g_weights = [p.data.copy() for p in G.parameters()]
        d_weights = [p.data.copy() for p in D.parameters()]
        stale = np.random.default_rng(seed + 1)
        for p in G.parameters():            # stale gradients from an earlier step
            p.grad[...] = stale.standard_normal(p.grad.shape)
        marks = []
        for p in D.parameters():            # D's step gradients, which the G step keeps
            p.grad[...] = stale.standard_normal(p.grad.shape)
            marks.append(p.grad.copy())
        stale_g = [p.grad.copy() for p in G.parameters()]
        value = run(path, fn, G, D, z, watch=("G", "D", "z"))
        expected_value, expected = _reference(G_ref, D_ref, z)
        _check_states(G, D, g_weights, d_weights, marks)
        if not isinstance(value, (int, float, np.floating)) and not (
                isinstance(value, np.ndarray) and value.size == 1):
            raise Wrong(f"g_step_gradients must return the loss as a float, got "
                        f"{type(value).__name__}")
        value = float(np.asarray(value).reshape(()))
        saturating = float(np.mean(np.log1p(-1 / (1 + np.exp(-D_ref(G_ref(z)))))))
        if abs(value - expected_value) > 1e-9 * max(1.0, abs(expected_value)):
            if abs(value - saturating) < 1e-9 * max(1.0, abs(saturating)):
                raise Wrong("the loss is the saturating mean log(1 - D(G(z))); the exercise "
                            "asks for the non-saturating BCE(D(G(z)), 1) = mean -log D(G(z))")
            eval_value = _reference(*_networks(seed), z, d_eval=True)[0]
            if abs(value - eval_value) < 1e-9 * max(1.0, abs(eval_value)):
                raise Wrong(_EVAL)
            raise Wrong(f"the loss is {value:.6g}, expected BCE(D(G(z)), 1) = "
                        f"{expected_value:.6g}")
        eval_grads = None
        for index, ((name, p), e, old) in enumerate(zip(G.named_parameters(), expected,
                                                        stale_g)):
            if eval_grads is None and not np.allclose(p.grad, e, rtol=1e-8, atol=1e-12):
                if np.allclose(p.grad, e + old, rtol=1e-8, atol=1e-12):
                    raise Wrong(f"G's {name}.grad is the new gradient PLUS the old one: "
                                "backward adds into .grad, so call G.zero_grad() first")
                eval_grads = _reference(*_networks(seed), z, d_eval=True)[1]
            if eval_grads is not None and np.allclose(p.grad, eval_grads[index], rtol=1e-8,
                                                      atol=1e-12):
                raise Wrong(_EVAL)
            check_array(f"G's {name}.grad", p.grad, e, "the parameter's shape")
            worst = max(worst, relative_error(p.grad, e))
        if case == 0:
            fd = _directional_check(seed, z, [p.grad.copy() for p in G.parameters()])
    return {"max_rel_error_vs_reference": worst, "max_rel_error_vs_finite_differences": fd}


def _check_states(G, D, g_weights, d_weights, marks):
    for (name, p), w in zip(G.named_parameters(), g_weights):
        if not np.array_equal(p.data, w):
            raise Wrong(f"G's {name} changed: compute the gradients only, no optimizer step")
    for (name, p), w in zip(D.named_parameters(), d_weights):
        if not np.array_equal(p.data, w):
            raise Wrong(f"D's {name} changed: D is not updated in the G step")
    for (name, p), mark in zip(D.named_parameters(), marks):
        if not p.requires_grad:
            raise Wrong("D is still frozen after your function: call D.unfreeze() at the end "
                        "(the next D step needs its gradients)")
        if not np.array_equal(p.grad, mark):
            raise Wrong(f"D's {name}.grad changed: D is frozen in the G step, its parameters "
                        "get no gradient (D.freeze() before D.backward, and no D.zero_grad())")
    if not D.training or not G.training:
        which = "D" if not D.training else "G"
        raise Wrong(f"{which} was left in eval mode: training mode throughout (frozen never "
                    "means eval)")


def _directional_check(seed, z, grads, eps=1e-6):
    """<grad, d> against (L(theta + eps d) - L(theta - eps d)) / (2 eps) over all of G's
    parameters at once, for one random direction d."""
    G, D = _networks(seed)
    directions = [np.random.default_rng(seed + 2 + i).standard_normal(p.data.shape)
                  for i, p in enumerate(G.parameters())]
    originals = [p.data.copy() for p in G.parameters()]

    def shifted(sign):
        for p, o, d in zip(G.parameters(), originals, directions):
            p.data[...] = o + sign * eps * d
        return _loss_at(G, D, z)

    measured = (shifted(1) - shifted(-1)) / (2 * eps)
    predicted = sum(float((g * d).sum()) for g, d in zip(grads, directions))
    error = abs(measured - predicted) / max(abs(measured), abs(predicted), 1e-12)
    if error > FD_TOLERANCE:
        raise Wrong(f"G's gradients disagree with finite differences (relative error "
                    f"{error:.2e})")
    return error
