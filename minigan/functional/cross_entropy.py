"""Softmax cross-entropy on logits with integer class labels, stable for any finite logit.

For logits z (N, K) and labels y (N,) with values in [0, K):
    l_n = -log softmax(z_n)[y_n] = logsumexp(z_n) - z_n[y_n],      loss = mean_n l_n.
logsumexp is computed after subtracting the row maximum m_n:
    logsumexp(z_n) = m_n + log sum_k exp(z_nk - m_n),
so exp never sees a positive argument and the sum is >= 1 (its log is finite): the
loss is exact at logits of +-1e4, where the naive form gives inf or nan.
"""

from .. import backend


def softmax_cross_entropy_forward(logits, labels):
    """Mean softmax cross-entropy.

    logits (N, K) float, labels (N,) integer in [0, K) -> (0-d array in the logits'
    dtype, cache). The cache holds the log-probabilities (N, K) and the one-hot
    labels (N, K).
    """
    xp = backend.xp
    n, k = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)            # (N, K), row max is 0
    log_probabilities = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    onehot = xp.eye(k, dtype=logits.dtype)[labels]                   # (N, K)
    per_sample = -(onehot * log_probabilities).sum(axis=1)          # (N,)
    return per_sample.mean(), (log_probabilities, onehot)


def softmax_cross_entropy_backward(cache, upstream=1.0):
    """d (upstream * mean_loss) / d logits, shape (N, K), in the logits' dtype."""
    # dl_n/dz_n = softmax(z_n) - onehot(y_n), and the mean divides by N
    log_probabilities, onehot = cache
    grad = backend.xp.exp(log_probabilities)
    grad -= onehot
    grad *= upstream / log_probabilities.shape[0]
    return grad
