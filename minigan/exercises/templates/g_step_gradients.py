"""Exercise: the generator's gradient, through a frozen discriminator.

Task
    Complete ``g_step_gradients``: the gradient part of the G step of a GAN, with the
    non-saturating loss L_G = BCE(D(G(z)), 1) = mean(-log sigma(D(G(z)))).
        1. x_fake = G(z)
        2. logits = D(x_fake), the loss and its gradient w.r.t. the logits
        3. the gradient w.r.t. x_fake, through D -- D is FROZEN: its parameters get no
           gradient (their .grad must be exactly as before), but D stays in training
           mode (its BatchNorm keeps using the batch's statistics)
        4. G's parameter gradients: after your function, each p.grad of G holds
           dL_G/dp (start them from zero)
    Return the loss as a Python float. Do not take an optimizer step.

Shapes
    z (N, latent); G(z) (N, ...) what D takes; D(x) (N, 1) logits.

Tools (all public): ``layer(x)``, ``layer.backward(gy)`` (returns dL/dx and ADDS into
each p.grad of parameters with requires_grad), ``module.zero_grad()``,
``module.freeze()`` / ``module.unfreeze()`` (requires_grad off / on for every parameter),
``minigan.losses.BCEWithLogits()`` (``loss(logits, 1.0)`` and ``loss.backward()``).

Hint
    docs/exercises.md, "The GAN step by hand", and the G step in minigan/gan/trainer.py.

Check it:  minigan exercises check DIR g_step_gradients
"""

import minigan as mg  # noqa: F401


def g_step_gradients(G, D, z):
    # TODO: steps 1-4; return the loss as a float
    raise NotImplementedError("g_step_gradients: your code goes here")
