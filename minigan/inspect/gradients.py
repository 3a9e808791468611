"""Gradients that change nothing: ``saliency`` (dD/dx) and ``generator_gradient`` (what one
G step would receive) run G and D inside ``preserved``, which puts back every gradient,
running statistic and forward cache they touch."""

import contextlib

import numpy

from .. import backend


@contextlib.contextmanager
def preserved(*modules):
    """Run a block that may call forward/backward on ``modules`` and leave them exactly as
    they were: parameter gradients, requires_grad flags, BatchNorm running statistics and
    the layers' forward caches are put back on exit (weights are never written)."""
    modules = [m for m in modules]
    params = [p for m in modules for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    grads = [p.grad.copy() for p in params]
    buffers = [{name: b.copy() for name, b in model.named_buffers()} for model in modules]
    states = [model.save_backward_state() for model in modules]
    try:
        yield
    finally:
        for p, flag, grad in zip(params, flags, grads):
            p.requires_grad = flag
            backend.xp.copyto(p.grad, grad)
        for model, saved in zip(modules, buffers):
            for name, buffer in model.named_buffers():    # the buffers as they are now
                backend.xp.copyto(buffer, saved[name])
        for model, state in zip(modules, states):
            model.restore_backward_state(state)


def saliency(D, images, labels=None):
    """dD/dx: the gradient of D's summed logits w.r.t. ``images``, (N, ...) like them.

    D runs in the mode it is in (the trainer keeps it in training mode: BatchNorm uses
    the batch's statistics, so sample i's logit depends a little on the others and the
    gradient is that of the sum). D is frozen meanwhile, and its gradients, running
    statistics and caches are restored afterwards: training is not affected. This is
    D.backward with an upstream gradient of ones; the G step's gradient image is
    D.backward with the objective's gradient instead."""
    with preserved(D):
        D.freeze()
        out = D.forward(images) if labels is None else D.forward(images, labels)
        return D.backward(backend.xp.ones_like(out))


def generator_gradient(G, D, z, loss, labels=None):
    """What one G step under ``loss`` (a name or Objective) would receive from ``z``,
    computed as the trainer does (D frozen, training mode) and leaving G and D as they
    were. Returns host numbers and arrays: d_fake (sigmoid of the logits, per sample),
    logits, grad_logit (dL/dlogit), grad_image (dL/dG(z)), and the norms grad_image_norm
    and grad_theta_norm (||dL/dθ_G|| over all of G's parameters)."""
    from ..gan.objectives import get_objective

    objective = get_objective(loss)
    xp = backend.xp
    with preserved(G, D):
        fake = G.forward(z) if labels is None else G.forward(z, labels)
        D.freeze()
        out = D.forward(fake) if labels is None else D.forward(fake, labels)
        result = objective.g_loss(out)
        grad_image = D.backward(result["grad_fake"])
        G.zero_grad()
        G.backward(grad_image, need_input_grad=False)
        theta = float(sum((p.grad * p.grad).sum() for p in G.parameters())) ** 0.5
        logits = backend.to_numpy(out).astype(numpy.float64).ravel()
        return {"loss": result["loss"], "logits": logits,
                "d_fake": 1 / (1 + numpy.exp(-logits)),
                "grad_logit": backend.to_numpy(result["grad_fake"]).astype(numpy.float64).ravel(),
                "grad_image": numpy.array(backend.to_numpy(grad_image), copy=True),
                "grad_image_norm": float(xp.sqrt((grad_image * grad_image).sum())),
                "grad_theta_norm": theta}
