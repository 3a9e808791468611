import numpy as np


def bce_with_logits_forward(logits, targets):
    z, y = logits, targets
    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return loss.mean(), (logits, targets)


def bce_with_logits_backward(cache, upstream=1.0):
    z, y = cache
    e = np.exp(-np.abs(z))
    sigmoid = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return (sigmoid - y) * (upstream / z.size)
