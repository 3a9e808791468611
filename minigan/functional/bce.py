"""Binary cross-entropy on logits, numerically stable for any finite logit.

For a logit z and a target y in [0, 1] (soft targets allowed: label smoothing),
    l(z, y) = -[y log sigma(z) + (1 - y) log(1 - sigma(z))]
            = max(z, 0) - z y + log(1 + exp(-|z|)).
The second form never takes exp of a positive number nor log of 0, so it is exact
at z = +-1e4, where the first form gives inf or nan.
"""

from .. import backend
from .activations import sigmoid_forward


def bce_with_logits_forward(logits, targets):
    """Mean BCE over all elements.  logits, targets: same shape (any) -> (0-d array, cache)."""
    xp = backend.xp
    per_element = xp.maximum(logits, 0)
    per_element -= logits * targets
    per_element += xp.log1p(xp.exp(-xp.abs(logits)))
    return per_element.mean(), (logits, targets)


def bce_with_logits_backward(cache, upstream=1.0):
    """d (upstream * mean_loss) / d logits, same shape as the logits."""
    # dl/dz = sigma(z) - y, and the mean divides by the number of elements
    logits, targets = cache
    probabilities, _ = sigmoid_forward(logits)
    grad = probabilities - targets
    grad *= upstream / logits.size
    return grad
