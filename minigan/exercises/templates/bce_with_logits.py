"""Exercise: binary cross-entropy on logits, numerically stable, and its gradient.

Task
    Complete both functions.
    ``bce_with_logits_forward(logits, targets)`` returns the MEAN over all elements of
        l(z, y) = -[y log sigma(z) + (1 - y) log(1 - sigma(z))]
    as a 0-d array (or a float), with the cache for the backward pass.
    ``bce_with_logits_backward(cache, upstream=1.0)`` returns
        d (upstream * mean loss) / d logits.

    It must stay finite and exact for any finite logit: at z = +-1e4 the formula above
    takes log(0) or exp(1e4). Rewrite l(z, y) so that no exp of a large positive number
    and no log of 0 ever happens.

Shapes
    logits and targets: the same shape (any; D's logits are (N, 1)); targets in [0, 1]
    (0.9 is one-sided label smoothing). The gradient has the logits' shape.

The cache is whatever your forward returns and your backward reads; minigan's is
    cache = (logits, targets)

Hint
    docs/layers/bce_with_logits.md: log sigma(z) = -log(1 + exp(-z)); split on the sign
    of z; the gradient of the per-element loss is sigma(z) - y, and the mean divides it.

Check it:  minigan exercises check DIR bce_with_logits
"""

import numpy as np  # noqa: F401


def bce_with_logits_forward(logits, targets):
    # TODO: the mean stable BCE, and the cache
    raise NotImplementedError("bce_with_logits_forward: your code goes here")


def bce_with_logits_backward(cache, upstream=1.0):
    # TODO: d (upstream * mean loss) / d logits
    raise NotImplementedError("bce_with_logits_backward: your code goes here")
