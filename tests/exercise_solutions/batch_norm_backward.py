def batch_norm_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    xhat, inv_std, gamma = cache["xhat"], cache["inv_std"], cache["gamma"]
    axes = tuple(range(gy.ndim - 1))
    m = gy.size // gy.shape[-1]
    gbeta = gy.sum(axis=axes)
    ggamma = (gy * xhat).sum(axis=axes)
    gx = None
    if need_input_grad:
        gx = gamma * inv_std * (gy - gbeta / m - xhat * (ggamma / m))
    if not need_param_grads:
        ggamma = gbeta = None
    return gx, ggamma, gbeta
