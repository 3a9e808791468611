import numpy as np


def dense_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    x, w, has_bias = cache
    gx = gy @ w.T if need_input_grad else None
    gw = x.T @ gy if need_param_grads else None
    gb = np.sum(gy, axis=0) if need_param_grads and has_bias else None
    return gx, gw, gb
