"""The gradient penalties (WGAN-GP, R1) against finite differences, and their contract.

Finite differences: a critic stack is drawn by hypothesis (images through Conv2d,
ConvTranspose2d, LayerNorm, Reshape and the activations, then Flatten and Dense layers;
or vectors through Dense, LayerNorm and the activations), with random float64 weights and
biases and a batch of 1 to 3. The penalty's value is computed independently of the double
backward -- the input gradient by the first-order sweeps, then the penalty formula -- and
differentiated by central differences with respect to every element of every parameter
and of the input. The double backward's gradients must agree to 1e-6 of the largest
derivative. ReLU-family inputs stay 1e-3 from their kinks, Tanh and Sigmoid out of
saturation, and every LayerNorm group sees at least 3 values a ReLU has not zeroed. NumPy
and the strict backend.

The contract: gradients are *added* into .grad; the modules' caches from a preceding
forward survive; a frozen critic gets no parameter gradient; float32 works; layers that
mix samples (and the other unsupported ones) are refused, naming the layer.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, ShapeError
from minigan.gan.penalties import double_backprop, gradient_penalty_term, input_gradient, r1_term
from minigan.gradcheck import numerical_gradient

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)
ACTIVATIONS = {"leaky_relu": lambda: mg.nn.LeakyReLU(0.2), "relu": mg.nn.ReLU,
               "tanh": mg.nn.Tanh, "sigmoid": mg.nn.Sigmoid}


@st.composite
def image_critics(draw):
    """(critic, input shape): one or two image layers, Flatten, Dense layers down to 1."""
    n, h, w, c = (draw(st.integers(1, 3)), draw(st.integers(2, 4)), draw(st.integers(2, 4)),
                  draw(st.integers(1, 2)))
    input_shape, layers = (n, h, w, c), []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["conv", "conv_transpose", "layer_norm", "reshape",
                                     *ACTIVATIONS]))
        if kind == "conv":
            k, s, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
            assume(h + 2 * p >= k and w + 2 * p >= k)
            c_out = draw(st.integers(1, 2))
            layers.append(mg.nn.Conv2d(c, c_out, k, stride=s, padding=p, dtype="float64"))
            h, w, c = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1, c_out
        elif kind == "conv_transpose":
            k, s = draw(st.integers(1, 2)), draw(st.integers(1, 2))
            op, c_out = draw(st.integers(0, s - 1)), draw(st.integers(1, 2))
            layers.append(mg.nn.ConvTranspose2d(c, c_out, k, stride=s, output_padding=op,
                                                dtype="float64"))
            h, w, c = (h - 1) * s + k + op, (w - 1) * s + k + op, c_out
        elif kind == "layer_norm":
            assume(h * w * c >= 3)  # 1 or 2 values per sample: gradients of round-off size
            layers.append(mg.nn.LayerNorm((h, w, c), dtype="float64"))
        elif kind == "reshape":
            layers.append(mg.nn.Reshape(w, h, c))
            h, w = w, h
        else:
            layers.append(ACTIVATIONS[kind]())
    return mg.nn.Sequential(*layers, mg.nn.Flatten(), *_head(draw, h * w * c)), input_shape


@st.composite
def vector_critics(draw):
    """(critic, input shape): Dense, LayerNorm and activations on (N, F) vectors."""
    n, features = draw(st.integers(1, 3)), draw(st.integers(3, 5))
    layers = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["layer_norm", *ACTIVATIONS]))
        layers.append(mg.nn.LayerNorm(features, dtype="float64") if kind == "layer_norm"
                      else ACTIVATIONS[kind]())
    return mg.nn.Sequential(*layers, *_head(draw, features)), (n, features)


def _head(draw, features):
    """Dense(features, d), an activation, Dense(d, 1); or Dense(features, 1) alone."""
    if draw(st.booleans()):
        return [mg.nn.Dense(features, 1, dtype="float64")]
    width = draw(st.integers(1, 3))
    return [mg.nn.Dense(features, width, dtype="float64"),
            ACTIVATIONS[draw(st.sampled_from(sorted(ACTIVATIONS)))](),
            mg.nn.Dense(width, 1, dtype="float64")]


def randomise(D, seed):
    """Random weights, biases and LayerNorm gammas/betas (nothing left at 0 or 1)."""
    rng = mg.backend.default_rng(seed)
    for p in D.parameters():
        p.data[...] = rng.standard_normal(p.shape) * 0.8 + (0.5 if p.data.ndim == 3 else 0)
    return D


def kink_distance(D, x):
    """The smallest |input| of any ReLU-family layer of the flat Sequential D on x."""
    distance = float("inf")
    for layer in D:
        if isinstance(layer, (mg.nn.ReLU, mg.nn.LeakyReLU)):
            distance = min(distance, float(abs(x).min()))
        x = layer.forward(x)
    return distance


def not_saturated(D, x):
    """Every Tanh input has |x| < 4 and every Sigmoid input |x| < 8 (slopes above ~1e-3).
    A saturated slope is computed from y as 1 - y^2 (or y (1 - y)) to a relative precision
    of only 2^-52 / slope, and every derivative through it -- the central differences
    too -- inherits that round-off."""
    for layer in D:
        limit = {mg.nn.Tanh: 4.0, mg.nn.Sigmoid: 8.0}.get(type(layer))
        if limit is not None and float(abs(x).max()) >= limit:
            return False
        x = layer.forward(x)
    return True


def layer_norms_see_free_values(D, x):
    """Every LayerNorm group of the flat Sequential D on x has at least 3 values that a
    ReLU has not pinned at 0. With fewer, the group is normalised the same whatever those
    values are (LayerNorm is shift- and scale-invariant), its gradients exist only through
    eps, and central differences measure round-off (as for groups of two values)."""
    for layer in D:
        if isinstance(layer, mg.nn.LayerNorm):
            groups = x.reshape(-1, int(np.prod(layer.normalized_shape)))
            if int((mg.backend.xp.abs(groups) > 1e-3).sum(axis=1).min()) < 3:
                return False
        x = layer.forward(x)
    return True


PENALTIES = {
    # name: (the term double_backprop takes, the value written out independently)
    "wgan-gp": (gradient_penalty_term(7.0, 0.8),
                lambda norms: 7.0 * ((norms - 0.8) ** 2).mean()),
    "r1": (r1_term(3.0), lambda norms: 1.5 * (norms ** 2).mean()),
}


def assert_penalty_gradients_match(D, x, name):
    """Every parameter's gradient and dPen/dx against central differences of the value."""
    xp = mg.backend.xp
    term, formula = PENALTIES[name]

    def value():
        g = input_gradient(D, x)
        return float(formula(xp.sqrt((g * g).reshape(x.shape[0], -1).sum(axis=1))))

    D.zero_grad()
    result = double_backprop(D, x, term, need_input_grad=True)
    assert abs(result.value - value()) <= 1e-12 * max(abs(result.value), 1e-300)
    pairs = [(f"{n}", p.grad.copy(), numerical_gradient(value, p.data))
             for n, p in D.named_parameters()]
    pairs.append(("input", result.input_grad, numerical_gradient(value, x)))
    scale = max(float(xp.abs(numeric).max()) for _, _, numeric in pairs)
    for what, analytic, numeric in pairs:
        error = float(xp.abs(analytic - numeric).max())
        assert error <= TOLERANCE * scale, \
            f"{name} d/d{what}: error {error:.2e}, scale {scale:.2e}"


@given(case=image_critics(), name=st.sampled_from(sorted(PENALTIES)), seed=seeds)
@settings(max_examples=12)
def test_penalties_on_image_critics_match_finite_differences(array_backend, case, name, seed):
    D, shape = case
    randomise(D, seed)
    x = mg.backend.default_rng(seed + 1).standard_normal(shape)
    assume(kink_distance(D, x) > 1e-3 and not_saturated(D, x)
           and layer_norms_see_free_values(D, x))
    assert_penalty_gradients_match(D, x, name)


@given(case=vector_critics(), name=st.sampled_from(sorted(PENALTIES)), seed=seeds)
@settings(max_examples=12)
def test_penalties_on_vector_critics_match_finite_differences(array_backend, case, name, seed):
    D, shape = case
    randomise(D, seed)
    x = mg.backend.default_rng(seed + 1).standard_normal(shape) * 1.5
    assume(kink_distance(D, x) > 1e-3 and not_saturated(D, x)
           and layer_norms_see_free_values(D, x))
    assert_penalty_gradients_match(D, x, name)


def small_critic(dtype="float64", seed=0):
    """The MNIST critic's pattern at 6x6: Conv2d, LeakyReLU, Conv2d, LayerNorm, LeakyReLU,
    Flatten, Dense."""
    kw = {"dtype": dtype}
    D = mg.nn.Sequential(
        mg.nn.Conv2d(1, 3, 3, stride=2, padding=1, **kw), mg.nn.LeakyReLU(0.2),
        mg.nn.Conv2d(3, 4, 3, stride=2, padding=1, **kw), mg.nn.LayerNorm((2, 2, 4), dtype=dtype),
        mg.nn.LeakyReLU(0.2), mg.nn.Flatten(), mg.nn.Dense(16, 1, **kw))
    rng = mg.backend.default_rng(seed)   # the same values in float32 and float64
    for p in D.parameters():
        p.data[...] = (rng.standard_normal(p.shape) * 0.5 + (p.data.ndim == 3)).astype(dtype)
    return D


def gradients(D):
    return [p.grad.copy() for p in D.parameters()]


@pytest.mark.parametrize("penalty", [mg.gan.gradient_penalty, mg.gan.r1_penalty])
def test_a_penalty_between_a_forward_and_its_backward_changes_nothing_but_adds_its_gradient(
        array_backend, penalty):
    """D.forward(a); penalty(D, b); D.backward(gy) gives the penalty's gradient plus a's own:
    the modules kept a's caches, and the penalty added into .grad."""
    D = small_critic()
    rng = mg.backend.default_rng(1)
    a, b = rng.standard_normal((3, 6, 6, 1)), rng.standard_normal((2, 6, 6, 1))
    gy = rng.standard_normal((3, 1))
    D.zero_grad()
    D.forward(a)
    caches = [layer._cache for layer in D]
    penalty(D, b)
    assert all(layer._cache is cache for layer, cache in zip(D, caches))
    gx = D.backward(gy)
    together = gradients(D)
    D.zero_grad()
    value = penalty(D, b)
    alone = gradients(D)
    D.zero_grad()
    D.forward(a)
    xp = mg.backend.xp
    assert float(xp.abs(D.backward(gy) - gx).max()) == 0
    for total, pen, own in zip(together, alone, gradients(D)):
        assert float(xp.abs(total - (pen + own)).max()) <= 1e-12 * float(xp.abs(total).max())
    assert value > 0 and any(float(xp.abs(g).max()) > 0 for g in alone)


def test_a_frozen_critic_gets_no_parameter_gradient():
    D = small_critic().freeze()
    mg.gan.gradient_penalty(D, np.random.default_rng(0).standard_normal((2, 6, 6, 1)))
    assert all(not p.grad.any() for p in D.parameters())


def vector_critic(dtype="float64", seed=0):
    """Dense, Tanh, LayerNorm, Sigmoid, Dense on (N, 5) vectors."""
    D = mg.nn.Sequential(mg.nn.Dense(5, 4, dtype=dtype), mg.nn.Tanh(),
                         mg.nn.LayerNorm(4, dtype=dtype), mg.nn.Sigmoid(),
                         mg.nn.Dense(4, 1, dtype=dtype))
    rng = mg.backend.default_rng(seed)
    for p in D.parameters():
        p.data[...] = (rng.standard_normal(p.shape) * 0.8).astype(dtype)
    return D


@pytest.mark.parametrize("make, shape", [(small_critic, (4, 6, 6, 1)),
                                         (vector_critic, (4, 5))])
def test_float32_gives_the_float64_numbers_to_float32_precision(array_backend, make, shape):
    x = mg.backend.default_rng(3).standard_normal(shape)
    results = {}
    for dtype in ("float32", "float64"):
        D = make(dtype)
        D.zero_grad()
        value = mg.gan.gradient_penalty(D, x.astype(dtype))
        results[dtype] = value, gradients(D)
        assert all(g.dtype == dtype for g in results[dtype][1])
    (v32, g32), (v64, g64) = results["float32"], results["float64"]
    assert abs(v32 - v64) <= 1e-4 * abs(v64)
    xp = mg.backend.xp
    for a, b in zip(g32, g64):
        assert float(xp.abs(a - b).max()) <= 1e-3 * float(xp.abs(b).max())


def test_r1_and_the_gradient_penalty_are_the_formulas_of_the_input_gradient():
    D = small_critic()
    x = np.random.default_rng(4).standard_normal((5, 6, 6, 1))
    norms = np.sqrt((mg.gan.input_gradient(D, x) ** 2).reshape(5, -1).sum(axis=1))
    assert np.isclose(mg.gan.r1_penalty(D, x, gamma=4.0), 2.0 * (norms ** 2).mean(), rtol=1e-13)
    assert np.isclose(mg.gan.gradient_penalty(D, x, weight=3.0, target=0.5),
                      3.0 * ((norms - 0.5) ** 2).mean(), rtol=1e-13)


def test_the_input_gradient_is_per_sample():
    """Row n of grad_x sum_m D(x)_m is the gradient of D(x)_n alone: each sample's input
    gradient does not depend on the rest of the batch (no layer mixes samples)."""
    D = small_critic()
    x = np.random.default_rng(5).standard_normal((3, 6, 6, 1))
    whole = mg.gan.input_gradient(D, x)
    for n in range(3):
        np.testing.assert_allclose(mg.gan.input_gradient(D, x[n:n + 1])[0], whole[n],
                                   rtol=1e-12, atol=1e-15)


def test_a_critic_whose_input_gradient_vanishes_gives_no_nan():
    """||g_n|| = 0: the direction g_n / ||g_n|| is taken as 0, so the gradient stays finite."""
    D = mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Dense(4, 1, dtype="float64"))
    D[1].weight.data[...] = 0
    x = np.ones((2, 2, 2, 1))
    assert mg.gan.gradient_penalty(D, x) == 10.0          # 10 * (0 - 1)^2
    assert np.isfinite(D[1].weight.grad).all() and np.isfinite(D[1].bias.grad).all()


@pytest.mark.parametrize("make, error, message", [
    (lambda: mg.gan.dcgan_discriminator(), ConfigError,
     r"gradient_penalty: D\[3\] is BatchNorm2d\(128.*mixes the samples of a batch.*LayerNorm"),
    (lambda: mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Dense(36, 4), mg.nn.BatchNorm1d(4),
                              mg.nn.Dense(4, 1)), ConfigError, r"D\[2\] is BatchNorm1d"),
    (lambda: mg.nn.Sequential(mg.nn.Flatten(), mg.nn.MinibatchStdDev(), mg.nn.Dense(37, 1)),
     ConfigError, r"D\[1\] is MinibatchStdDev.*mixes the samples"),
    (lambda: mg.nn.Sequential(mg.nn.Flatten(), mg.nn.spectral_norm(mg.nn.Dense(36, 1))),
     ConfigError, r"D\[1\] is SpectralNorm.*has no double backward"),
    (lambda: mg.nn.Sequential(mg.nn.Sequential(mg.nn.Flatten(), mg.nn.BatchNorm1d(36)),
                              mg.nn.Dense(36, 1)), ConfigError, r"D\[0\]\[1\] is BatchNorm1d"),
    (lambda: mg.nn.Sequential(mg.nn.Flatten(), mg.nn.Dense(36, 2)), ShapeError,
     r"gradient_penalty: D must return one value per sample.*returned shape \(2, 2\)"),
    (lambda: mg.nn.Sequential(mg.nn.Dense(36, 1)), ShapeError,
     r"gradient_penalty: D\[0\]: Dense\(36, 1.*expected a 2-d input"),
])
def test_critics_it_cannot_penalise_are_refused_naming_the_layer(make, error, message):
    with pytest.raises(error, match=message):
        mg.gan.gradient_penalty(make(), np.ones((2, 6, 6, 1), dtype="float32"))


def test_a_conditional_critic_is_refused():
    D = mg.gan.conditional_discriminator(image_shape=(6, 6, 1), hidden=(4,))
    with pytest.raises(ConfigError, match=r"r1_penalty: D is LabelConditioned"):
        mg.gan.r1_penalty(D, np.ones((2, 6, 6, 1), dtype="float32"))


@pytest.mark.parametrize("call, message", [
    (lambda D, x: mg.gan.gradient_penalty(D, x, weight=-1.0), r"weight must be >= 0"),
    (lambda D, x: mg.gan.gradient_penalty(D, x, target=float("nan")), r"target must be a finite"),
    (lambda D, x: mg.gan.r1_penalty(D, x, gamma="10"), r"r1_penalty: gamma must be a finite"),
    (lambda D, x: mg.gan.gradient_penalty(D, x.astype("int64")), r"x must be a floating"),
    (lambda D, x: mg.gan.gradient_penalty(D, x * np.nan), r"found 72 NaN"),
    (lambda D, x: mg.gan.gradient_penalty(D, x[0, 0, 0]), r"x must be a batch"),
])
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(mg.MiniganError, match=message):
        call(small_critic(), np.ones((2, 6, 6, 1)))
