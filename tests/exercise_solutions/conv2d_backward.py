from minigan.functional import col2im


def conv2d_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    cols, w, x_shape, stride, padding, has_bias = cache
    kh, kw, c_in, c_out = w.shape
    g = gy.reshape(-1, c_out)
    W = w.reshape(kh * kw * c_in, c_out)
    gx = col2im(g @ W.T, x_shape, (kh, kw), stride, padding) if need_input_grad else None
    gw = (cols.T @ g).reshape(w.shape) if need_param_grads else None
    gb = g.sum(axis=0) if need_param_grads and has_bias else None
    return gx, gw, gb
