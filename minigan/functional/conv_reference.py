"""A convolution and its gradients tap by tap: the slow, obvious reference for conv.py.

No im2col matrix, no col2im: the window view (N, OH, OW, KH, KW, C_in) of the padded
input (``engine.unfold.windows``) is read one kernel tap (kh, kw) at a time. Tap (kh, kw) sees
the input pixels xs = x_pad[n, oh*SH + kh, ow*SW + kw, :] of every window, so

    y        = b + sum over taps of  xs @ w[kh, kw]               (N, OH, OW, C_out)
    dW[kh,kw] = xs^T gy          (summed over n, oh, ow)          (C_in, C_out)
    dx_pad[n, oh*SH + kh, ow*SW + kw, :] += gy @ w[kh, kw]^T       then crop the padding

The tests hold ``conv2d_forward`` / ``conv2d_backward`` (and, through the adjoint
identity, the transposed convolution) to these loops. Shapes as in conv.py.
"""

from .. import backend
from ..engine.unfold import as_pair, conv_output_size, padded_size, windows, zero_pad


def conv2d_reference(x, w, b, gy, stride=1, padding=0):
    """(y, gx, gw, gb) of y = conv2d(x, w) + b for the upstream gradient gy, tap by tap.

    x (N, H, W, C_in), w (KH, KW, C_in, C_out), b (C_out,) or None,
    gy (N, OH, OW, C_out); gb is None without a bias.
    """
    xp = backend.xp
    (sh, sw), (ph, pw) = as_pair(stride), as_pair(padding)
    n, h, wd, c_in = x.shape
    kh, kw, _, c_out = w.shape
    oh, ow = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    taps = windows(zero_pad(x, ph, pw), oh, ow, kh, kw, sh, sw)   # (N, OH, OW, KH, KW, C_in)
    y = xp.zeros((n, oh, ow, c_out), dtype=x.dtype)
    gw = xp.zeros(w.shape, dtype=x.dtype)
    hp, wp = padded_size(h, oh, kh, sh, ph), padded_size(wd, ow, kw, sw, pw)
    gx_pad = xp.zeros((n, hp, wp, c_in), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            xs = taps[:, :, :, i, j, :]                            # (N, OH, OW, C_in)
            y += xp.matmul(xs, w[i, j])
            gw[i, j] = xp.matmul(xs.reshape(-1, c_in).T, gy.reshape(-1, c_out))
            gx_pad[:, i:i + (oh - 1) * sh + 1:sh, j:j + (ow - 1) * sw + 1:sw] += \
                xp.matmul(gy, w[i, j].T)
    gb = None
    if b is not None:
        y += b
        gb = gy.sum(axis=(0, 1, 2))
    return y, gx_pad[:, ph:ph + h, pw:pw + wd], gw, gb
