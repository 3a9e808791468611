def dense_double_backward(v, gy, cache, need_param_grads=True):
    x, w, has_bias = cache
    return v @ w, (v.T @ gy if need_param_grads else None)
