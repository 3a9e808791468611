"""Graders of the elementwise and fully connected exercises: Dense's backward and double
backward, LeakyReLU's backward, BCE on logits, BatchNorm's training backward.

Each draws its cases from ``rng`` (batch sizes from 1, random shapes and a random upstream
gradient, never all ones), runs the student's function in float64 and once in float32,
and compares with ``minigan.functional`` and with central differences.
"""

import numpy as np

from .. import functional as F
from .. import gradcheck
from .diagnose import Wrong, check_array, check_none, close, relative_error, unpack
from .grading import away_from_zero, finite_difference_check, random, run, student_function


def _dense_case(rng, dtype=np.float64, bias=True):
    n, i, o = int(rng.integers(1, 6)), int(rng.integers(1, 7)), int(rng.integers(1, 6))
    x, w = random(rng, n, i).astype(dtype), random(rng, i, o).astype(dtype)
    b = random(rng, o).astype(dtype) if bias else None
    y, cache = F.dense_forward(x, w, b)
    return x, w, b, random(rng, *y.shape).astype(dtype), cache


def grade_dense_backward(module, path, rng):
    fn = student_function(module, path, "dense_backward", F.dense_backward)
    names = ("gx", "gw", "gb")
    notes = ("x's shape (N, IN)", "w's shape (IN, OUT)", "b's shape (OUT,)")
    worst = 0.0
    for case in range(6):
        dtype = np.float32 if case == 5 else np.float64
        x, w, b, gy, cache = _dense_case(rng, dtype, bias=case != 3)
        got = unpack(run(path, fn, gy, cache, watch=("gy", "cache")), names, "dense_backward")
        expected = F.dense_backward(gy, cache)
        for name, g, e, note in zip(names, got, expected, notes):
            if e is None:
                check_none(name, g, "when the layer has no bias (has_bias False)")
                continue
            check_array(name, g, e, note, dtype, hints=[_bias_hint] if name == "gb" else [])
            if dtype == np.float64:  # the float32 case checks the dtype
                worst = max(worst, relative_error(g, e))
        if case == 0:  # finite differences of L = sum(y * gy)
            fd = max(finite_difference_check(name, g, lambda: float(
                (F.dense_forward(x, w, b)[0] * gy).sum()), a)
                for name, g, a in zip(names, got, (x, w, b)))
    x, w, b, gy, cache = _dense_case(rng)
    got = unpack(run(path, fn, gy, cache, need_input_grad=False), names, "dense_backward")
    check_none("gx", got[0], "when need_input_grad is False")
    got = unpack(run(path, fn, gy, cache, need_param_grads=False), names, "dense_backward")
    check_none("gw", got[1], "when need_param_grads is False")
    check_none("gb", got[2], "when need_param_grads is False")
    return {"max_rel_error_vs_reference": worst, "max_rel_error_vs_finite_differences": fd}


def _bias_hint(got, expected):
    return None if got.ndim != 1 else (
        "b is added to every row of y, so gb is the sum of gy over the batch (axis 0)")


def grade_leaky_relu_backward(module, path, rng):
    fn = student_function(module, path, "leaky_relu_backward", F.leaky_relu_backward)
    worst = fd = 0.0
    for case, slope in enumerate([0.2, 0.01, 0.2, 0.5, 0.2]):
        dtype = np.float32 if case == 4 else np.float64
        shape = [(int(rng.integers(1, 5)), int(rng.integers(3, 7))),
                 (int(rng.integers(1, 3)), 3, 4, int(rng.integers(1, 3)))][case % 2]
        x = away_from_zero(rng, shape)
        x.flat[:3] = 0.0, -abs(x.flat[1]), abs(x.flat[2])  # each kind of input present
        x.flat[:: 5] = 0.0          # the slope at exactly 0 is the negative slope
        x = x.astype(dtype)
        gy = random(rng, *shape).astype(dtype)
        _, cache = F.leaky_relu_forward(x, slope)
        got = run(path, fn, gy, cache, watch=("gy", "cache"))
        expected = F.leaky_relu_backward(gy, cache)
        check_array("gx", got, expected, "x's shape", dtype,
                    hints=[lambda g, e, x=x, slope=slope: _leaky_hint(g, e, x, slope)])
        if dtype == np.float64:  # the float32 case checks the dtype
            worst = max(worst, relative_error(got, expected))
        if case == 0:
            off_kink = np.abs(x) > 0  # finite differences need a smooth point
            numeric_x = np.where(off_kink, x, 1.0)
            fd = finite_difference_check("gx", np.where(off_kink, got, gy), lambda: float(
                (F.leaky_relu_forward(numeric_x, slope)[0] * gy).sum()), numeric_x)
    return {"max_rel_error_vs_reference": worst, "max_rel_error_vs_finite_differences": fd}


def _leaky_hint(got, expected, x, slope):
    positive, negative, zero = x > 0, x < 0, x == 0
    right = np.isclose(got, expected, rtol=1e-6, atol=1e-12)
    if right[positive].all() and right[negative].all() and not right[zero].all():
        return (f"wrong at x == 0 exactly: there the slope is negative_slope ({slope}), as "
                "PyTorch (x > 0 is the test for slope 1)")
    if right[positive].all() and not right[negative].all():
        return f"right where x > 0, wrong where x < 0 (there dy/dx = negative_slope = {slope})"
    if not right[positive].all() and right[negative].all():
        return "right where x < 0, wrong where x > 0 (there dy/dx = 1: gx = gy)"
    return None


def grade_bce_with_logits(module, path, rng):
    forward = student_function(module, path, "bce_with_logits_forward",
                               F.bce_with_logits_forward)
    backward = student_function(module, path, "bce_with_logits_backward",
                                F.bce_with_logits_backward)
    worst = fd = 0.0
    for case in range(6):
        dtype = np.float32 if case == 5 else np.float64
        shape = (int(rng.integers(1, 9)), 1) if case % 2 == 0 else (
            int(rng.integers(1, 4)), int(rng.integers(1, 5)))
        logits = (random(rng, *shape) * 3).astype(dtype)
        if case == 2:  # far out in both tails: the naive formula gives inf or nan
            logits = np.resize(np.array([1e4, -1e4, 800.0, -800.0, 40.0], dtype), shape)
        targets = rng.choice([0.0, 1.0, 0.9, 0.3], size=shape).astype(dtype)
        upstream = 1.0 if case < 3 else float(rng.uniform(0.5, 2.0))
        value, cache = unpack(run(path, forward, logits, targets, watch=("logits", "targets")),
                              ("value", "cache"), "bce_with_logits_forward")
        expected_value, expected_cache = F.bce_with_logits_forward(logits, targets)
        if not np.isscalar(value) and not (isinstance(value, np.ndarray) and value.size == 1):
            raise Wrong(f"bce_with_logits_forward's value must be the MEAN loss, one number; "
                        f"got {np.shape(value)}")
        value = float(np.asarray(value).reshape(()))
        if not np.isfinite(value):
            raise Wrong(f"the loss is {value} at logits {_extremes(logits)}: the formula "
                        "overflows; use the stable form max(z, 0) - z y + log(1 + exp(-|z|))")
        check_array("the loss", np.asarray(value), np.asarray(float(expected_value)),
                    hints=[lambda g, e: _bce_value_hint(g, e, logits, targets)])
        grad = run(path, backward, cache, upstream, watch=("cache",))
        expected = F.bce_with_logits_backward(expected_cache, upstream)
        check_array("the gradient", grad, expected, "the logits' shape", dtype,
                    hints=[lambda g, e, n=logits.size: _mean_hint(g, e, n)])
        if dtype == np.float64:  # the float32 case checks the dtype
            worst = max(worst, relative_error(grad, expected))
        if case == 0:
            fd = finite_difference_check("the gradient", grad, lambda: float(
                F.bce_with_logits_forward(logits, targets)[0]), logits)
    return {"max_rel_error_vs_reference": worst, "max_rel_error_vs_finite_differences": fd}


def _extremes(logits):
    return f"in [{float(logits.min()):g}, {float(logits.max()):g}]"


def _bce_value_hint(got, expected, logits, targets):
    total = expected * logits.size
    if close(got, np.asarray(total)):
        return "is the SUM over the elements; it should be the mean"
    if np.abs(logits).max() > 30:
        return ("wrong far in the tails (logits " + _extremes(logits) + "): log(1 + exp(-|z|)) "
                "loses nothing there, log(sigmoid(z)) does; use the stable form")
    return None


def _mean_hint(got, expected, n):
    if n > 1 and close(got / n, expected):
        return f"{n} times too large: the loss is a mean over {n} elements, divide by it"
    return None


def grade_batch_norm_backward(module, path, rng):
    fn = student_function(module, path, "batch_norm_backward", F.batch_norm_backward)
    names = ("gx", "ggamma", "gbeta")
    worst = fd = 0.0
    for case in range(5):
        dtype = np.float32 if case == 4 else np.float64
        c = int(rng.integers(1, 5))
        # at least 3 values per channel: with 2, xhat is +-1 and gx nearly vanishes
        shape = (int(rng.integers(3, 8)), c) if case % 2 == 0 else (
            int(rng.integers(1, 4)), int(rng.integers(2, 4)), 2, c)
        x = (random(rng, *shape) * 2 + 0.5).astype(dtype)
        gamma, beta = random(rng, c).astype(dtype), random(rng, c).astype(dtype)
        _, cache = F.batch_norm_forward(x, gamma, beta)
        gy = random(rng, *shape).astype(dtype)
        got = unpack(run(path, fn, gy, cache, watch=("gy", "cache")), names,
                     "batch_norm_backward")
        expected = F.batch_norm_backward(gy, cache)
        check_array("gx", got[0], expected[0], "x's shape", dtype,
                    hints=[lambda g, e, cache=cache: _batchnorm_hint(g, e, cache)])
        check_array("ggamma", got[1], expected[1], "(C,)", dtype,
                    hints=[lambda g, e: "ggamma = sum of gy * xhat over every axis but the "
                           "channels" if g.ndim == 1 else None])
        check_array("gbeta", got[2], expected[2], "(C,)", dtype)
        if dtype == np.float64:  # the float32 case checks the dtype
            worst = max(worst, *(relative_error(g, e) for g, e in zip(got, expected)))
        if case == 0:
            floor = gradcheck.roundoff_floor(F.batch_norm_forward(x, gamma, beta)[0], gy, 1e-6)
            fd = finite_difference_check("gx", got[0], lambda: float(
                (F.batch_norm_forward(x, gamma, beta)[0] * gy).sum()), x, floor)
    x = random(rng, 4, 3)
    _, cache = F.batch_norm_forward(x, np.ones(3), np.zeros(3))
    gy = random(rng, 4, 3)
    got = unpack(run(path, fn, gy, cache, need_param_grads=False), names, "batch_norm_backward")
    check_none("ggamma", got[1], "when need_param_grads is False")
    check_none("gbeta", got[2], "when need_param_grads is False")
    got = unpack(run(path, fn, gy, cache, need_input_grad=False), names, "batch_norm_backward")
    check_none("gx", got[0], "when need_input_grad is False")
    return {"max_rel_error_vs_reference": worst, "max_rel_error_vs_finite_differences": fd}


def _batchnorm_hint(got, expected, cache):
    """The two terms a first attempt forgets: the mean's (then gx does not sum to zero
    per channel) and the variance's (then gx is not orthogonal to xhat per channel)."""
    axes = tuple(range(got.ndim - 1))
    size = max(float(np.abs(got).sum(axis=axes).max()), 1e-300)
    sums = float(np.abs(got.sum(axis=axes)).max()) / size
    dots = float(np.abs((got * cache["xhat"]).sum(axis=axes)).max()) / size
    if sums > 1e-6:
        return ("your input gradient does not sum to zero over the batch: the mean's term is "
                "missing (mu depends on every x: subtract mean(gy) per channel)")
    if dots > 1e-6:
        return ("your input gradient sums to zero but is not orthogonal to xhat: the "
                "variance's term is missing (subtract xhat * mean(gy * xhat) per channel)")
    return None


def grade_dense_double_backward(module, path, rng):
    fn = student_function(module, path, "dense_double_backward", F.dense_double_backward)
    names = ("ggy", "gw")
    worst = fd = 0.0
    for case in range(5):
        dtype = np.float32 if case == 4 else np.float64
        x, w, b, gy, cache = _dense_case(rng, dtype, bias=case != 2)
        v = random(rng, *x.shape).astype(dtype)
        got = unpack(run(path, fn, v, gy, cache, watch=("v", "gy", "cache")), names,
                     "dense_double_backward")
        expected = F.dense_double_backward(v, gy, cache)
        check_array("ggy", got[0], expected[0], "gy's shape (N, OUT)", dtype)
        check_array("gw", got[1], expected[1], "w's shape (IN, OUT)", dtype)
        if dtype == np.float64:  # the float32 case checks the dtype
            worst = max(worst, *(relative_error(g, e) for g, e in zip(got, expected)))
        if case == 0:  # Pen = <v, gx(gy, w)>: its gradients by central differences

            def penalty():
                return float((v * F.dense_backward(gy, (x, w, b is not None))[0]).sum())

            fd = max(finite_difference_check("ggy", got[0], penalty, gy),
                     finite_difference_check("gw", got[1], penalty, w))
    x, w, b, gy, cache = _dense_case(rng)
    got = unpack(run(path, fn, random(rng, *x.shape), gy, cache, need_param_grads=False),
                 names, "dense_double_backward")
    check_none("gw", got[1], "when need_param_grads is False")
    return {"max_rel_error_vs_reference": worst, "max_rel_error_vs_finite_differences": fd}
