from minigan.functional import col2im


def conv_transpose2d_forward(x, w, b, stride=1, padding=0, output_padding=0):
    def pair(v):
        return tuple(v) if isinstance(v, (tuple, list)) else (v, v)

    (sh, sw), (ph, pw), (oph, opw) = pair(stride), pair(padding), pair(output_padding)
    n, h, wd, c_in = x.shape
    kh, kw, c_out, _ = w.shape
    oh = (h - 1) * sh - 2 * ph + kh + oph
    ow = (wd - 1) * sw - 2 * pw + kw + opw
    W = w.reshape(kh * kw * c_out, c_in)
    y = col2im(x.reshape(-1, c_in) @ W.T, (n, oh, ow, c_out), (kh, kw), (sh, sw), (ph, pw))
    if b is not None:
        y = y + b
    return y, (x, w, (sh, sw), (ph, pw), b is not None)
