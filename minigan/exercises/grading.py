"""What every grader shares: calling the student's function on copies of the inputs,
refusing an answer that calls the library function it should reimplement, and the
finite-difference check.

A grader (``graders_*.py``) is ``grade(module, path, rng) -> details``: it runs the
student's function on several random cases in float64 (and one in float32, to catch a
dtype change), compares each result with the library's and with central differences
(``minigan.gradcheck``), and raises ``Wrong`` with the first problem found; ``details``
are the numbers of a passing answer (the largest relative errors), for ``--json``.
"""

import copy
import os

import numpy as np

from .. import gradcheck
from .diagnose import Wrong, check_unchanged, relative_error
from .student import call, function

FD_TOLERANCE = 1e-6
"""Relative error allowed against central differences (eps 1e-6, float64): their
truncation error is O(eps^2) and their round-off about 1e-16 / 1e-6 = 1e-10 relative
(``gradcheck.roundoff_floor``); 1e-6 is the tolerance ``minigan check`` uses."""


def student_function(module, path, name, reference):
    """The student's function ``name``; Wrong when it is (or calls) ``reference``."""
    fn = function(module, path, name)
    if reference is not None and (fn is reference
                                  or getattr(fn, "__wrapped__", None) is reference):
        raise Wrong(f"{name} is minigan's own {name}: write your own")
    if reference is not None and any(value is reference for value in vars(module).values()):
        raise Wrong(f"{os.path.basename(path)} imports minigan's own {reference.__name__}: "
                    "write the computation yourself")
    code = getattr(fn, "__code__", None)
    if code is not None and name in code.co_names:
        raise Wrong(f"{name} calls minigan's {name} (or itself): write the computation "
                    "yourself")
    return fn


def run(path, fn, *args, watch=(), **kwargs):
    """fn(*args) with every ndarray argument (also inside a tuple or dict cache) checked
    to be unchanged afterwards; ``watch`` names the positional arguments for messages."""
    before = copy.deepcopy(args)
    result = call(path, fn, *args, **kwargs)
    for index, (old, new) in enumerate(zip(before, args)):
        label = watch[index] if index < len(watch) else f"argument {index + 1}"
        _unchanged(label, old, new, fn.__name__)
    return result


def _unchanged(label, old, new, function_name):
    if isinstance(old, np.ndarray):
        check_unchanged(label, old, new, function_name)
    elif isinstance(old, (tuple, list)):
        for i, (a, b) in enumerate(zip(old, new)):
            _unchanged(f"{label}[{i}]", a, b, function_name)
    elif isinstance(old, dict):
        for key in old:
            _unchanged(f"{label}[{key!r}]", old[key], new[key], function_name)


def finite_difference_check(name, analytic, loss, array, floor=0.0):
    """analytic == d loss() / d array by central differences (array perturbed in place
    and restored); returns the relative error, Wrong when what exceeds the round-off
    ``floor`` (``gradcheck.roundoff_floor``: a difference below it cannot be measured)
    is above FD_TOLERANCE of the gradient's scale."""
    numeric = gradcheck.numerical_gradient(loss, array)
    error = relative_error(analytic, numeric)
    scale = max(float(np.abs(numeric).max()), 1e-300)
    if max(error * scale - floor, 0.0) > FD_TOLERANCE * scale:
        raise Wrong(f"{name} disagrees with finite differences (relative error {error:.2e})")
    return error


def random(rng, *shape):
    return rng.standard_normal(shape)


def away_from_zero(rng, shape, margin=1e-3):
    """Normal values with |x| >= margin (off a kink), and some exact zeros elsewhere left
    to the caller."""
    x = rng.standard_normal(shape)
    x[np.abs(x) < margin] = margin
    return x
