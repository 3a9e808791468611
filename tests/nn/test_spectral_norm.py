"""SpectralNorm: gradients against finite differences, sigma against the SVD, the Module
contract (Sequential, freeze, need_input_grad, state_dict, resume), errors, and PyTorch
parity -- float64, on NumPy and on the strict CuPy-like backend.

What the finite-difference checks prove. The backward treats u and v as constants
(as PyTorch does): dL/dW = (G - <G, W_sn> u v^T) / sigma with sigma = u^T W v. That is
the exact derivative of W / ||W^T u|| for a *fixed* u. So the checks run in eval mode,
where u is not updated (optionally after a few training forwards have moved u), and
compare every element of dL/dx, dL/dW and dL/db. In training mode the input and bias
gradients are still exact (u depends on W only), and the weight gradient is the
eval-mode gradient at the freshly updated u -- tested as such.

Run: python -m pytest tests/nn/test_spectral_norm.py
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.errors import ConfigError, ShapeError, StateError
from minigan.functional.spectral_norm import as_matrix
from minigan.gradcheck import check_module, numerical_gradient

TOLERANCE = 1e-6
seeds = st.integers(0, 2**31 - 1)
f64 = {"dtype": "float64"}


@st.composite
def wrapped_layers(draw):
    """(a SpectralNorm-wrapped Dense or Conv2d in float64, an input shape)."""
    seed = draw(seeds)
    rng = mg.backend.default_rng(seed)
    n = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    if draw(st.booleans()):
        fan_in, fan_out = draw(st.integers(1, 5)), draw(st.integers(1, 4))
        layer, shape = mg.nn.Dense(fan_in, fan_out, bias, rng=rng, **f64), (n, fan_in)
    else:
        k, s, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
        h, w = draw(st.integers(k, 5)), draw(st.integers(k, 5))
        c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        layer = mg.nn.Conv2d(c_in, c_out, k, stride=s, padding=p, bias=bias, rng=rng, **f64)
        shape = (n, h, w, c_in)
    iterations = draw(st.integers(1, 3))
    return mg.nn.SpectralNorm(layer, iterations, rng=rng), shape


def inputs(shape, seed):
    return mg.backend.default_rng(seed).standard_normal(shape)


def upstream(sn, x, seed):
    return mg.backend.default_rng(seed + 1).standard_normal(sn(x).shape)


@given(case=wrapped_layers(), warmup=st.integers(0, 3), seed=seeds)
@settings(max_examples=30)
def test_eval_mode_gradients_match_finite_differences(array_backend, case, warmup, seed):
    """Elementwise FD on input, layer.weight and layer.bias with u held fixed (eval),
    after 0-3 training forwards have moved u away from its initial draw."""
    sn, shape = case
    x = inputs(shape, seed)
    for _ in range(warmup):
        sn(x)
    u = mg.backend.to_numpy(sn.u)
    errors = check_module(sn.eval(), x)
    names = ["input", "layer.weight"] + (["layer.bias"] if sn.layer.bias is not None else [])
    assert [e.name for e in errors] == names
    for error in errors:
        assert error.within(TOLERANCE), error
    np.testing.assert_array_equal(mg.backend.to_numpy(sn.u), u)  # eval never moves u


@given(case=wrapped_layers(), seed=seeds)
@settings(max_examples=20)
def test_training_mode_gradients(array_backend, case, seed):
    """Training: dL/dx and dL/db are exact (FD with u restored before each evaluation);
    dL/dW equals the eval-mode gradient at the u the forward just stored."""
    sn, shape = case
    x = inputs(shape, seed)
    for error in check_module(sn, x):
        if error.name != "layer.weight":
            assert error.within(TOLERANCE), error
    gy = upstream(sn, x, seed)
    sn.zero_grad()
    y_train = sn(x)
    sn.backward(gy)
    g_train = sn.layer.weight.grad.copy()
    sn.eval().zero_grad()
    y_eval = sn(x)
    sn.backward(gy)
    assert float(abs(y_train - y_eval).max()) <= 1e-13 * float(abs(y_eval).max())
    assert float(abs(g_train - sn.layer.weight.grad).max()) <= 1e-13 * float(
        abs(g_train).max())


@given(rows=st.integers(1, 6), cols=st.integers(1, 6), seed=seeds)
def test_functional_pair_against_finite_differences(array_backend, rows, cols, seed):
    """The teaching form: L = sum(G * W_sn(W)) with u fixed (n_power_iterations=0)."""
    rng = mg.backend.default_rng(seed)
    w, g = rng.standard_normal((rows, cols)), rng.standard_normal((rows, cols))
    u = rng.standard_normal(rows)
    u = u / float((u * u).sum()) ** 0.5
    _, u_out, cache = mg.functional.spectral_normalize(w, u, 0)
    assert u_out is u
    analytic = mg.functional.spectral_normalize_backward(g, cache)
    numeric = numerical_gradient(
        lambda: float((mg.functional.spectral_normalize(w, u, 0)[0] * g).sum()), w)
    scale = float(abs(numeric).max())
    assert float(abs(analytic - numeric).max()) <= TOLERANCE * scale + 1e-9


def spectrum(rng, rows, cols, gap):
    """A (rows, cols) matrix with singular values s1 = gap * s2 > s2 > ..."""
    k = min(rows, cols)
    q1, _ = np.linalg.qr(rng.standard_normal((rows, rows)))
    q2, _ = np.linalg.qr(rng.standard_normal((cols, cols)))
    s = np.sort(rng.uniform(0.1, 1.0, k))[::-1] * 2
    s[0] = s[1] * gap if k > 1 else s[0]
    return q1[:, :k] * s @ q2[:, :k].T


@given(case=wrapped_layers(), seed=seeds)
@settings(max_examples=25)
def test_sigma_converges_to_the_largest_singular_value(array_backend, case, seed):
    """After enough training forwards sigma equals numpy.linalg.svd's top value (on the
    host), and W_sn has top singular value 1 (a 1.2 spectral gap is planted in W)."""
    sn, shape = case
    weight = sn.layer.weight
    matrix = spectrum(np.random.default_rng(seed), *as_matrix(weight.data).shape, gap=1.2)
    weight.data[...] = mg.backend.to_device(matrix.T.reshape(weight.shape))
    x = inputs(shape, seed)
    for _ in range(150 // sn.n_power_iterations):   # (1/1.2)^300 ~ 1e-24
        sn(x)
    top = np.linalg.svd(matrix, compute_uv=False)[0]
    assert abs(float(sn.sigma()) - top) <= 1e-10 * top
    w_sn = mg.backend.to_numpy(as_matrix(sn.normalized_weight()))
    assert abs(np.linalg.svd(w_sn, compute_uv=False)[0] - 1) <= 1e-10
    assert abs(float((sn.u * sn.u).sum()) - 1) <= 1e-12


def test_sigma_is_a_lower_bound_that_grows_with_iterations():
    rng = np.random.default_rng(0)
    sn = mg.nn.SpectralNorm(mg.nn.Dense(40, 30, **f64), rng=mg.backend.default_rng(0))
    top = np.linalg.svd(sn.layer.weight.data, compute_uv=False)[0]
    x = rng.standard_normal((2, 40))
    estimates = [float(sn.sigma())]
    for _ in range(30):
        sn(x)
        estimates.append(float(sn.sigma()))
    assert all(b >= a - 1e-12 for a, b in zip(estimates, estimates[1:]))
    assert max(estimates) <= top * (1 + 1e-12)


def test_one_by_one_weight_is_its_sign_with_zero_weight_gradient(array_backend):
    sn = mg.nn.SpectralNorm(mg.nn.Dense(1, 1, **f64))
    sn.layer.weight.data[...] = -0.3
    x = mg.backend.xp.asarray([[2.0], [-1.0]])
    y = sn(x)
    assert bool((y == -x).all())                   # W_sn = -1, bias 0
    sn.backward(mg.backend.xp.asarray([[0.5], [1.5]]))
    assert float(abs(sn.layer.weight.grad).max()) == 0


def test_module_contract(array_backend):
    rng = mg.backend.default_rng(0)
    sn = mg.nn.spectral_norm(mg.nn.Conv2d(2, 3, 3, padding=1, **f64), rng=rng)
    x, gy = rng.standard_normal((2, 4, 4, 2)), rng.standard_normal((2, 4, 4, 3))
    with pytest.raises(StateError, match="SpectralNorm.*without a preceding forward"):
        sn.backward(gy)
    accumulator = sn.layer.weight.grad
    saved_gy = gy.copy()
    sn.eval()
    sn(x)
    gx = sn.backward(gy)
    assert sn.layer.weight.grad is accumulator and bool((gy == saved_gy).all())
    once = [p.grad.copy() for p in sn.parameters()]
    sn(x)
    assert sn.backward(gy, need_input_grad=False) is None          # param grads still added
    for p, g in zip(sn.parameters(), once):
        assert float(abs(p.grad - 2 * g).max()) <= 1e-13 * float(abs(g).max())
    with pytest.raises(StateError):
        sn.backward(gy)                                              # cache consumed
    sn.zero_grad()
    sn.freeze()
    sn(x)
    frozen_gx = sn.backward(gy)                                      # frozen: input grad only
    assert bool((frozen_gx == gx).all())
    assert all(float(abs(p.grad).max()) == 0 for p in sn.parameters())
    sn.unfreeze()
    sn.layer.bias.requires_grad = False                              # partly frozen
    sn(x)
    sn.backward(gy)
    assert float(abs(sn.layer.weight.grad - once[0]).max()) <= 1e-13 * float(
        abs(once[0]).max())
    assert float(abs(sn.layer.bias.grad).max()) == 0


def test_in_sequential_state_dict_and_exact_resume(array_backend):
    def discriminator(seed):
        rng = mg.backend.default_rng(seed)
        return mg.nn.Sequential(
            mg.nn.spectral_norm(mg.nn.Conv2d(1, 2, 3, stride=2, padding=1, rng=rng, **f64),
                                rng=rng),
            mg.nn.LeakyReLU(0.2), mg.nn.Flatten(),
            mg.nn.spectral_norm(mg.nn.Dense(8, 1, rng=rng, **f64), rng=rng))

    d = discriminator(0)
    assert list(d.state_dict()) == ["0.u", "0.layer.weight", "0.layer.bias",
                                    "3.u", "3.layer.weight", "3.layer.bias"]
    assert [name for name, _ in d.named_parameters()] == [
        "0.layer.weight", "0.layer.bias", "3.layer.weight", "3.layer.bias"]
    rng = mg.backend.default_rng(5)
    x = rng.standard_normal((3, 4, 4, 1))
    opt = mg.optim.Adam(d.parameters(), lr=1e-2)
    d(x)
    d.backward(mg.backend.xp.ones((3, 1)))
    opt.step()
    resumed = discriminator(1)                  # other weights and other u ...
    resumed.load_state_dict(d.state_dict())    # ... until the state is loaded
    for model in (d, resumed):
        model.zero_grad()
        y = model(x)
        model.backward(y)
    assert bool((d(x) == resumed(x)).all())
    for (name, a), (_, b) in zip(d.state_dict().items(), resumed.state_dict().items()):
        assert bool((a == b).all()), name
    errors = check_module(d.eval(), x + 0.05 * ((x > 0) * 2 - 1), mode="directional")
    assert all(e.within(TOLERANCE) for e in errors), errors


def test_u_initialisation(array_backend):
    def wrapper(seed, dtype=None):
        return mg.nn.SpectralNorm(mg.nn.Dense(4, 6, dtype=dtype),
                                  rng=mg.backend.default_rng(seed))

    a, b = wrapper(3), wrapper(3)
    assert a.u.shape == (6,) and a.u.dtype == a.layer.weight.dtype == np.float32
    assert bool((a.u == b.u).all()) and not bool((a.u == wrapper(4).u).all())
    assert abs(float((a.u * a.u).sum()) - 1) < 1e-6
    assert wrapper(3, "float64").u.dtype == np.float64
    mg.backend.seed(7)
    first = mg.nn.SpectralNorm(mg.nn.Dense(4, 6)).u
    mg.backend.seed(7)
    assert bool((mg.nn.SpectralNorm(mg.nn.Dense(4, 6)).u == first).all())


def test_float32_training_step_runs():
    sn = mg.nn.SpectralNorm(mg.nn.Dense(3, 2))
    x = np.ones((4, 3), dtype=np.float32)
    y = sn(x)
    assert y.dtype == np.float32 and sn.u.dtype == np.float32
    assert sn.backward(np.ones_like(y)).dtype == np.float32
    assert sn.layer.weight.grad.dtype == np.float32


def test_bad_layers_arguments_and_inputs():
    with pytest.raises(ConfigError, match="SpectralNorm: expected a Dense, Maxout or Conv2d "
                                          "layer to wrap, got ReLU"):
        mg.nn.SpectralNorm(mg.nn.ReLU())
    with pytest.raises(ConfigError, match="got ConvTranspose2d"):
        mg.nn.spectral_norm(mg.nn.ConvTranspose2d(2, 2, 3))
    with pytest.raises(ConfigError, match="n_power_iterations must be an int >= 1, got 0"):
        mg.nn.SpectralNorm(mg.nn.Dense(2, 2), n_power_iterations=0)
    with pytest.raises(ConfigError, match="SpectralNorm: eps must be > 0"):
        mg.nn.SpectralNorm(mg.nn.Dense(2, 2), eps=0)
    sn = mg.nn.SpectralNorm(mg.nn.Dense(3, 2))
    u = sn.u.copy()
    with pytest.raises(ShapeError, match=r"SpectralNorm: Dense\(3, 2.*expected a 2-d input "
                                         r"\(N, in_features\), got shape \(3,\)"):
        sn(np.zeros(3, dtype=np.float32))
    with pytest.raises(ShapeError, match=r"SpectralNorm: Dense.*expected 3 .* got shape \(2, 5\)"):
        sn(np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"Sequential\[0\]: SpectralNorm: Conv2d.*4-d input"):
        mg.nn.Sequential(mg.nn.SpectralNorm(mg.nn.Conv2d(1, 1, 3)))(np.zeros((2, 9)))
    assert bool((sn.u == u).all())             # a refused input leaves u alone
    sn(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"SpectralNorm.*gradient of shape \(2, 2\)"):
        sn.backward(np.zeros((2, 3), dtype=np.float32))


# -- PyTorch parity ----------------------------------------------------------------
@pytest.mark.torch
@given(case=wrapped_layers(), seed=seeds)
@settings(max_examples=25)
def test_torch_autograd_parity(case, seed):
    """Torch autograd of layer(x; W / (u^T W_t v)) with u, v taken as constants.

    u is the vector our training forward just stored, v = W^T u / ||W^T u|| (computed
    here on the host). W_t is torch's (out, in*kh*kw) matrix view; for Conv2d its columns
    are in (c_in, kh, kw) order, so our v (kh, kw, c_in order) is permuted to match --
    which is also the check that the two views have the same sigma. We compare y, dL/dx,
    dL/dW and dL/db (relative error < 1e-10, plus 1e-13 absolute: a 1x1 weight has
    W_sn = sign(W) and an exactly zero weight gradient, torch's is ~1e-15). We do not
    compare against torch.nn.utils.spectral_norm's sigma: it uses the v of the last
    iteration (half a step behind ours); its power-iteration *update* of u is compared
    below.
    """
    torch = pytest.importorskip("torch")
    sn, shape = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    y = sn(x)
    gy = rng.standard_normal(y.shape)
    gx = sn.backward(gy)
    layer, u = sn.layer, torch.tensor(sn.u)
    w = layer.weight.data
    t = as_matrix(w).T @ sn.u
    v = t / np.linalg.norm(t)
    tx = torch.tensor(x if x.ndim == 2 else x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
    if isinstance(layer, mg.nn.Dense):
        tw = torch.tensor(w.T.copy(), requires_grad=True)           # (out, in)
        tv = torch.tensor(v)
    else:
        tw = torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)  # (out, in, kh, kw)
        kh, kw, c_in, _ = w.shape
        tv = torch.tensor(v.reshape(kh, kw, c_in).transpose(2, 0, 1).reshape(-1).copy())
    tb = None if layer.bias is None else torch.tensor(layer.bias.data, requires_grad=True)
    sigma = u @ tw.reshape(tw.shape[0], -1) @ tv
    if isinstance(layer, mg.nn.Dense):
        ty = torch.nn.functional.linear(tx, tw / sigma, tb)
        to_ours = lambda a: a.detach().numpy()                        # noqa: E731
        g_w = lambda a: a.detach().numpy().T                          # noqa: E731
    else:
        ty = torch.nn.functional.conv2d(tx, tw / sigma, tb, stride=layer.stride,
                                        padding=layer.padding)
        to_ours = lambda a: a.detach().numpy().transpose(0, 2, 3, 1)  # noqa: E731
        g_w = lambda a: a.detach().numpy().transpose(2, 3, 1, 0)      # noqa: E731
    ty.backward(_to_torch(gy))
    pairs = [(y, to_ours(ty)), (gx, to_ours(tx.grad)), (layer.weight.grad, g_w(tw.grad))]
    if tb is not None:
        pairs.append((layer.bias.grad, tb.grad.numpy()))
    for ours, theirs in pairs:
        assert np.abs(ours - theirs).max() <= 1e-10 * np.abs(theirs).max() + 1e-13


def _to_torch(gy):
    import torch
    return torch.tensor(gy if gy.ndim == 2 else gy.transpose(0, 3, 1, 2).copy())


@pytest.mark.torch
@pytest.mark.parametrize("make", [lambda: mg.nn.Dense(5, 3, **f64),
                                  lambda: mg.nn.Conv2d(2, 4, 3, **f64)])
@pytest.mark.parametrize("iterations", [1, 3])
def test_power_iteration_update_matches_torch(make, iterations):
    """torch.nn.utils.spectral_norm, started from our u, stores the same new u."""
    torch = pytest.importorskip("torch")
    sn = mg.nn.SpectralNorm(make(), iterations)
    w = sn.layer.weight.data
    if w.ndim == 2:
        module = torch.nn.Linear(*w.shape).double()
        x = np.ones((2, w.shape[0]))
    else:
        module = torch.nn.Conv2d(w.shape[2], w.shape[3], w.shape[:2]).double()
        x = np.ones((2, 3, 3, w.shape[2]))
    module = torch.nn.utils.spectral_norm(module, n_power_iterations=iterations)
    with torch.no_grad():
        module.weight_orig.copy_(torch.tensor(w.T.copy() if w.ndim == 2
                                              else w.transpose(3, 2, 0, 1).copy()))
        module.weight_u.copy_(torch.tensor(sn.u))
    module.train()
    module(_to_torch(x))
    sn(x)
    np.testing.assert_allclose(sn.u, module.weight_u.numpy(), rtol=0, atol=1e-13)
