"""Graders of the convolution exercises: Conv2d's backward by im2col / col2im, and the
transposed convolution's forward as Conv2d's adjoint.

The cases cover strides 1-3, paddings 0-2, non-square kernels and images, batch 1, and
(for the transposed convolution) output paddings; each is compared with
``minigan.functional`` and with central differences, and the transposed convolution also
with the adjoint identity <conv2d(z, w), x> = <z, conv_transpose2d(x, w)>.
"""

import numpy as np

from .. import functional as F
from .diagnose import Wrong, check_array, check_none, relative_error, tolerance, unpack
from .grading import finite_difference_check, random, run, student_function


def _geometry(rng):
    """A random convolution: (N, H, W, C_in), (KH, KW), stride, padding, C_out, with at
    least one output pixel."""
    while True:
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        stride = (int(rng.integers(1, 4)), int(rng.integers(1, 3)))
        padding = (int(rng.integers(0, 3)), int(rng.integers(0, 2)))
        h, w = int(rng.integers(kh, 8)), int(rng.integers(kw, 7))
        if padding[0] < kh and padding[1] < kw:
            return ((int(rng.integers(1, 4)), h, w, int(rng.integers(1, 4))), (kh, kw),
                    stride, padding, int(rng.integers(1, 4)))


def grade_conv2d_backward(module, path, rng):
    fn = student_function(module, path, "conv2d_backward", F.conv2d_backward)
    names = ("gx", "gw", "gb")
    worst = fd = 0.0
    cases = [((2, 5, 5, 2), (3, 3), (1, 1), (1, 1), 3), ((1, 6, 5, 1), (3, 2), (2, 2), (1, 0), 2)]
    cases += [_geometry(rng) for _ in range(5)]
    for case, (x_shape, kernel, stride, padding, c_out) in enumerate(cases):
        dtype = np.float32 if case == len(cases) - 1 else np.float64
        x = random(rng, *x_shape).astype(dtype)
        w = random(rng, *kernel, x_shape[3], c_out).astype(dtype)
        b = random(rng, c_out).astype(dtype) if case != 3 else None
        y, cache = F.conv2d_forward(x, w, b, stride, padding)
        gy = random(rng, *y.shape).astype(dtype)
        got = unpack(run(path, fn, gy, cache, watch=("gy", "cache")), names, "conv2d_backward")
        expected = F.conv2d_backward(gy, cache)
        setting = f"kernel {kernel}, stride {stride}, padding {padding}"
        for name, g, e, note in zip(names, got, expected,
                                    ("x's shape (N, H, W, C_in)", "w's shape (KH, KW, C_in, "
                                     "C_out)", "(C_out,)")):
            if e is None:
                check_none(name, g, "when the layer has no bias (has_bias False)")
                continue
            hints = [lambda g_, e_, x=x, kernel=kernel, stride=stride, padding=padding:
                     _overlap_hint(g_, e_, x.shape, kernel, stride, padding)] \
                if name == "gx" else []
            try:
                check_array(name, g, e, note, dtype, hints=hints)
            except Wrong as wrong:
                raise Wrong(f"{wrong} [{setting}]") from None
            if dtype == np.float64:  # the float32 case checks the dtype
                worst = max(worst, relative_error(g, e))
        if case == 0:

            def loss():
                return float((F.conv2d_forward(x, w, b, stride, padding)[0] * gy).sum())

            fd = max(finite_difference_check("gx", got[0], loss, x),
                     finite_difference_check("gw", got[1], loss, w))
    x = random(rng, 1, 4, 4, 2)
    y, cache = F.conv2d_forward(x, random(rng, 2, 2, 2, 3), random(rng, 3), 1, 0)
    gy = random(rng, *y.shape)
    got = unpack(run(path, fn, gy, cache, need_input_grad=False), names, "conv2d_backward")
    check_none("gx", got[0], "when need_input_grad is False")
    got = unpack(run(path, fn, gy, cache, need_param_grads=False), names, "conv2d_backward")
    check_none("gw", got[1], "when need_param_grads is False")
    return {"max_rel_error_vs_reference": worst, "max_rel_error_vs_finite_differences": fd}


def _overlap_hint(got, expected, x_shape, kernel, stride, padding):
    """Wrong only at pixels that several windows cover: the windows were assigned, not
    added; wrong only near the border: the padding is mishandled."""
    n, h, w, c = x_shape
    oh = F.conv_output_size(h, kernel[0], stride[0], padding[0])
    ow = F.conv_output_size(w, kernel[1], stride[1], padding[1])
    ones = np.ones((n * oh * ow, kernel[0] * kernel[1] * c))
    coverage = F.col2im(ones, x_shape, kernel, stride, padding)
    wrong = ~np.isclose(got, expected, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(expected).max()))
    if wrong.any() and (coverage[wrong] > 1).all():
        return ("right where one window covers a pixel, wrong where several do: col2im must "
                "ADD each window's gradient (+=), not assign it")
    return None


def grade_conv_transpose2d_forward(module, path, rng):
    fn = student_function(module, path, "conv_transpose2d_forward", F.conv_transpose2d_forward)
    worst = 0.0
    cases = [((2, 3, 3, 2), (4, 4), (2, 2), (1, 1), (0, 0), 1),   # the DCGAN's upsampling
             ((1, 2, 3, 1), (3, 2), (2, 1), (0, 0), (1, 0), 2)]
    for _ in range(4):
        (n, h, w, c_in), kernel, stride, padding, c_out = _geometry(rng)
        op = (int(rng.integers(0, stride[0])), int(rng.integers(0, stride[1])))
        cases.append(((n, h, w, c_in), kernel, stride, (min(padding[0], kernel[0] - 1),
                                                        padding[1]), op, c_out))
    for case, (x_shape, kernel, stride, padding, output_padding, c_out) in enumerate(cases):
        dtype = np.float32 if case == len(cases) - 1 else np.float64
        x = random(rng, *x_shape).astype(dtype)
        w = random(rng, *kernel, c_out, x_shape[3]).astype(dtype)
        b = random(rng, c_out).astype(dtype) if case != 2 else None
        try:
            expected, expected_cache = F.conv_transpose2d_forward(x, w, b, stride, padding,
                                                                  output_padding)
        except Exception:  # a geometry without output pixels: not a case
            continue
        setting = (f"kernel {kernel}, stride {stride}, padding {padding}, output_padding "
                   f"{output_padding}")
        y, cache = unpack(run(path, fn, x, w, b, stride, padding, output_padding,
                              watch=("x", "w", "b")), ("y", "cache"), "conv_transpose2d_forward")
        hints = [lambda g, e, b=b: "right up to the bias: add b to every output pixel"
                 if b is not None and np.allclose(g + b, e) else None,
                 lambda g, e: _adjoint_hint(g, e, x, w, stride, padding)]
        try:
            check_array("y", y, expected, "(N, OH, OW, C_out), OH = (H - 1)*SH - 2*PH + KH + "
                        "OPH", dtype, hints=hints)
        except Wrong as wrong:
            raise Wrong(f"{wrong} [{setting}]") from None
        if dtype == np.float64:  # the float32 case checks the dtype
            worst = max(worst, relative_error(y, expected))
        gy = random(rng, *expected.shape).astype(dtype)
        try:
            got_back = F.conv_transpose2d_backward(gy, cache)
        except Exception as error:
            raise Wrong(f"the cache does not work with minigan's conv_transpose2d_backward "
                        f"({type(error).__name__}: {error}); return (x, w, stride, padding, "
                        "has_bias) with stride and padding as (h, w) pairs") from None
        for name, g, e in zip(("gx", "gw", "gb"), got_back,
                              F.conv_transpose2d_backward(gy, expected_cache)):
            if (g is None) != (e is None) or (e is not None
                                              and relative_error(g, e) > tolerance(dtype)):
                raise Wrong(f"the cache gives minigan's backward another {name}: return "
                            "(x, w, stride, padding, has_bias) as the library does")
    # the adjoint identity on the student's own output, bias-free (a property of the map
    # itself, checked without the reference)
    x, w = random(rng, 1, 3, 3, 2), random(rng, 3, 3, 1, 2)
    y = unpack(run(path, fn, x, w, None, 2, 1, 1), ("y", "cache"), "conv_transpose2d_forward")[0]
    adjoint = _adjoint_error(np.asarray(y, dtype=np.float64), x, w, (2, 2), (1, 1))
    if adjoint > 1e-10:
        raise Wrong(f"y is not the adjoint of conv2d: <conv2d(z, w), x> != <z, y> (relative "
                    f"difference {adjoint:.2g})")
    return {"max_rel_error_vs_reference": worst, "adjoint_identity_rel_error": adjoint}


def _adjoint_error(y, x, w, stride, padding):
    """|<conv2d(z, w), x> - <z, y>| for a random z of y's shape, relative to the sum of
    the products' magnitudes (the scale of the rounding of both sums)."""
    z = np.random.default_rng(1).standard_normal(y.shape)
    products = F.conv2d_forward(z, w, None, stride, padding)[0] * x
    left, right = float(products.sum()), float((z * y).sum())
    return abs(left - right) / max(float(np.abs(products).sum()), 1e-300)


def _adjoint_hint(got, expected, x, w, stride, padding):
    try:
        error = _adjoint_error(got, x, w, stride, padding)
    except Exception:
        return None
    if error > 1e-6:
        return (f"not the adjoint of conv2d: <conv2d(z, w), x> != <z, y> (relative "
                f"difference {error:.2g}); spread each input pixel over its window with the "
                "weight as Conv2d(C_out -> C_in) uses it")
    return None
