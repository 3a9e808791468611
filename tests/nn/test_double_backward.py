"""Every layer's double backward against finite differences of its backward.

A layer's backward is a function gx = B(gy; x, params). A gradient penalty differentiates
it once more: for an adjoint v = dPen/dgx, ``*_double_backward(v, gy, cache)`` returns
the derivatives of S = <v, B(gy; x, params)> with respect to gy, x and the parameters.
Here S is evaluated directly (the first backward, dotted with a random v) and
differentiated by central differences in float64, element by element, with respect to
gy, x and every parameter -- including those the double backward reports as not
mattering (None: a linear layer's x and bias, ReLU's x), whose finite differences must
then vanish. Shapes, strides, paddings and batch sizes (1 included) are drawn by
hypothesis; inputs of the ReLU family stay 1e-2 from the kink; NumPy and the strict
CuPy-like backend.
"""

import math

from conv_geometry import conv_geometry
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan import functional as F
from minigan.gradcheck import numerical_gradient

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)


def normal(rng, shape, scale=1.0, shift=0.0):
    return rng.standard_normal(shape) * scale + shift


def off_kink(x):
    """|x| >= 1e-2: central differences of the ReLU family never straddle 0."""
    return x + 0.01 * ((x >= 0) * 2 - 1)


def check_double_backward(arrays, backward, double_backward):
    """``arrays``: {"gy": ..., "x": ..., param name: ...} (float64, perturbed in place);
    ``backward(arrays)`` -> gx; ``double_backward(arrays, v)`` -> {name: dS/dname or
    None}. Every array is differentiated numerically; a name reported None must have a
    vanishing derivative. The error is measured against the largest derivative of S."""
    xp = mg.backend.xp
    v = mg.backend.default_rng(12345).standard_normal(arrays["x"].shape)

    def s():
        return float((backward(arrays) * v).sum())

    analytic = double_backward(arrays, v)
    assert set(analytic) == set(arrays), (sorted(analytic), sorted(arrays))
    numeric = {name: numerical_gradient(s, a) for name, a in arrays.items()}
    # S can vanish identically (a ReLU whose inputs are all negative, a convolution whose
    # windows see only padding): then every analytic derivative must be exactly 0
    scale = max(float(xp.abs(n).max()) for n in numeric.values())
    for name, expected in numeric.items():
        got = analytic[name] if analytic[name] is not None else xp.zeros_like(expected)
        assert tuple(got.shape) == tuple(expected.shape), (name, got.shape, expected.shape)
        error = float(xp.abs(got - expected).max())
        assert error <= TOLERANCE * scale, f"{name}: error {error:.3e}, scale {scale:.3e}"


@given(n=st.integers(1, 4), fan_in=st.integers(1, 5), fan_out=st.integers(1, 4),
       bias=st.booleans(), seed=seeds)
@settings(max_examples=20)
def test_dense(array_backend, n, fan_in, fan_out, bias, seed):
    rng = mg.backend.default_rng(seed)
    a = {"x": normal(rng, (n, fan_in)), "w": normal(rng, (fan_in, fan_out)),
         "gy": normal(rng, (n, fan_out))}
    if bias:
        a["b"] = normal(rng, (fan_out,))

    def cache(a):
        return F.dense_forward(a["x"], a["w"], a.get("b"))[1]

    def second(a, v):
        ggy, gw = F.dense_double_backward(v, a["gy"], cache(a))
        return {"gy": ggy, "w": gw, "x": None, **({"b": None} if bias else {})}

    check_double_backward(a, lambda a: F.dense_backward(a["gy"], cache(a))[0], second)


@st.composite
def conv_cases(draw, transpose):
    geometry = draw(conv_geometry(transpose, max_kernel=4, max_size=5))
    return dict(n=draw(st.integers(1, 2)), c_in=draw(st.integers(1, 3)),
                c_out=draw(st.integers(1, 3)), **geometry, bias=draw(st.booleans()),
                seed=draw(seeds))


@given(case=conv_cases(transpose=False))
@settings(max_examples=15)
def test_conv2d(array_backend, case):
    rng = mg.backend.default_rng(case["seed"])
    a = {"x": normal(rng, (case["n"], *case["hw"], case["c_in"])),
         "w": normal(rng, (*case["k"], case["c_in"], case["c_out"])),
         "gy": normal(rng, (case["n"], *case["out"], case["c_out"]))}
    if case["bias"]:
        a["b"] = normal(rng, (case["c_out"],))

    def cache(a):
        return F.conv2d_forward(a["x"], a["w"], a.get("b"), case["s"], case["p"])[1]

    def second(a, v):
        ggy, gw = F.conv2d_double_backward(v, a["gy"], cache(a))
        return {"gy": ggy, "w": gw, "x": None, **({"b": None} if case["bias"] else {})}

    check_double_backward(a, lambda a: F.conv2d_backward(a["gy"], cache(a))[0], second)


@given(case=conv_cases(transpose=True))
@settings(max_examples=15)
def test_conv_transpose2d(array_backend, case):
    rng = mg.backend.default_rng(case["seed"])
    a = {"x": normal(rng, (case["n"], *case["hw"], case["c_in"])),
         "w": normal(rng, (*case["k"], case["c_out"], case["c_in"])),
         "gy": normal(rng, (case["n"], *case["out"], case["c_out"]))}
    if case["bias"]:
        a["b"] = normal(rng, (case["c_out"],))

    def cache(a):
        return F.conv_transpose2d_forward(a["x"], a["w"], a.get("b"), case["s"], case["p"],
                                          case["op"])[1]

    def second(a, v):
        ggy, gw = F.conv_transpose2d_double_backward(v, a["gy"], cache(a))
        return {"gy": ggy, "w": gw, "x": None, **({"b": None} if case["bias"] else {})}

    check_double_backward(a, lambda a: F.conv_transpose2d_backward(a["gy"], cache(a))[0],
                          second)


ACTIVATIONS = {
    "relu": (F.relu_forward, F.relu_backward, F.relu_double_backward),
    "leaky_relu": (lambda x: F.leaky_relu_forward(x, 0.2), F.leaky_relu_backward,
                   F.leaky_relu_double_backward),
    "leaky_relu_steep": (lambda x: F.leaky_relu_forward(x, 1.7), F.leaky_relu_backward,
                         F.leaky_relu_double_backward),
    "tanh": (F.tanh_forward, F.tanh_backward, F.tanh_double_backward),
    "sigmoid": (F.sigmoid_forward, F.sigmoid_backward, F.sigmoid_double_backward),
}


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       name=st.sampled_from(sorted(ACTIVATIONS)), seed=seeds)
@settings(max_examples=30)
def test_activations(array_backend, shape, name, seed):
    forward, backward, double_backward = ACTIVATIONS[name]
    rng = mg.backend.default_rng(seed)
    a = {"x": off_kink(normal(rng, tuple(shape), 1.5)), "gy": normal(rng, tuple(shape))}

    def second(a, v):
        ggy, gx = double_backward(v, a["gy"], forward(a["x"])[1])
        return {"gy": ggy, "x": gx}

    check_double_backward(a, lambda a: backward(a["gy"], forward(a["x"])[1]), second)


@given(leading=st.lists(st.integers(1, 3), min_size=1, max_size=2),
       trailing=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       affine=st.booleans(), seed=seeds)
@settings(max_examples=25)
def test_layer_norm(array_backend, leading, trailing, affine, seed):
    leading, trailing = tuple(leading), tuple(trailing)
    # groups of one value: the backward is 0; of two: xhat = +-1 whatever x is, every
    # derivative exists only through eps and central differences measure round-off
    # (the closed form below checks that case)
    assume(math.prod(trailing) >= 3)
    rng = mg.backend.default_rng(seed)
    a = {"x": normal(rng, leading + trailing, 2.0, 0.5), "gy": normal(rng, leading + trailing)}
    if affine:
        a["gamma"] = normal(rng, trailing, 1.0, 1.0)
        a["beta"] = normal(rng, trailing)

    def cache(a):
        return F.layer_norm_forward(a["x"], a.get("gamma"), a.get("beta"), trailing)[1]

    def second(a, v):
        ggy, gx, ggamma = F.layer_norm_double_backward(v, a["gy"], cache(a))
        return {"gy": ggy, "x": gx, **({"gamma": ggamma, "beta": None} if affine else {})}

    check_double_backward(a, lambda a: F.layer_norm_backward(a["gy"], cache(a))[0], second)


@given(n=st.integers(1, 3), seed=seeds)
@settings(max_examples=10)
def test_layer_norm_on_groups_of_two_values_matches_the_closed_form(array_backend, n, seed):
    """With two values x1, x2 and d = (x1 - x2) / 2, the backward is
    gx = (g1 - g2) s(d) (1, -1) with s(d) = eps / (2 (d^2 + eps)^(3/2)) (no affine map), so
    S = (v1 - v2)(g1 - g2) s(d): dS/dgy = (v1 - v2) s(d) (1, -1) and
    dS/dx = (v1 - v2)(g1 - g2) s'(d) (1, -1) / 2, s'(d) = -3 eps d / (2 (d^2 + eps)^(5/2))."""
    xp, eps = mg.backend.xp, 1e-3
    rng = mg.backend.default_rng(seed)
    x, gy, v = normal(rng, (n, 2), 0.1), normal(rng, (n, 2)), normal(rng, (n, 2))
    _, cache = F.layer_norm_forward(x, None, None, (2,), eps)
    ggy, gx, _ = F.layer_norm_double_backward(v, gy, cache)
    d = (x[:, 0] - x[:, 1]) / 2
    s = eps / (2 * (d * d + eps) ** 1.5)
    s_prime = -3 * eps * d / (2 * (d * d + eps) ** 2.5)
    dv, dg = v[:, 0] - v[:, 1], gy[:, 0] - gy[:, 1]
    sign = xp.asarray([1.0, -1.0])
    expected_ggy = (dv * s)[:, None] * sign
    expected_gx = (dv * dg * s_prime / 2)[:, None] * sign
    for got, expected in ((ggy, expected_ggy), (gx, expected_gx)):
        assert float(xp.abs(got - expected).max()) <= 1e-9 * float(xp.abs(expected).max())
