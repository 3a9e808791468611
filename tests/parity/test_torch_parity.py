"""Layers, losses, optimizers and whole DCGAN models against PyTorch autograd (float64).

The raw conv functional ops have their own file (test_torch_parity_conv.py); this one
checks the modules built on them and everything else: forward output, input gradient
and every parameter gradient, with a random upstream gradient, to a relative error
max|ours - torch| / max|torch| below 1e-8.

Layout conversions (helpers below): our images are NHWC, torch's NCHW; our Conv2d
weight is (KH, KW, C_in, C_out) and torch's (C_out, C_in, KH, KW); our ConvTranspose2d
weight is (KH, KW, C_out, C_in) and torch's (C_in, C_out, KH, KW) -- both map by the
transpose (3, 2, 0, 1). Our Dense weight is (in, out), torch's (out, in). Our Flatten and
Reshape work in NHWC (h, w, c) order, torch's in NCHW (c, h, w) order.
"""

import numpy as np
import pytest
from conv_geometry import conv_geometry
from hypothesis import Phase, assume, example, given, settings
from hypothesis import strategies as st

import minigan as mg

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

TOL = 1e-8
seeds = st.integers(0, 2**32 - 1)


# -- layout helpers ---------------------------------------------------------------
def nhwc_to_nchw(a, grad=True):      # numpy (N, H, W, C) -> torch (N, C, H, W)
    return torch.tensor(a.transpose(0, 3, 1, 2).copy(), requires_grad=grad)


def nchw_to_nhwc(t):                 # torch (N, C, H, W) -> numpy (N, H, W, C)
    return t.detach().numpy().transpose(0, 2, 3, 1)


def kernel_to_torch(w):              # (KH, KW, A, B) -> (B, A, KH, KW), conv and conv-T
    return w.transpose(3, 2, 0, 1).copy()


def leaf(a):
    return torch.tensor(np.ascontiguousarray(a), requires_grad=True)


def rel_err(ours, theirs):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    return float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-300))


def assert_close(ours, theirs, what):
    err = rel_err(ours, theirs)
    assert err < TOL, f"{what}: relative error {err:.3e} >= {TOL:.0e}"


def randn(rng, *shape, scale=1.0):
    return rng.standard_normal(shape) * scale


def off_zero(rng, *shape):
    """Standard normals pushed away from 0 (|x| >= 1e-3): no ReLU kinks."""
    u = rng.standard_normal(shape)
    return np.sign(u + (u == 0)) * (np.abs(u) + 1e-3)


def set_params(layer, rng):
    """Random weights, and random (non-zero) biases where the layer has them."""
    layer.weight.data[...] = randn(rng, *layer.weight.shape, scale=0.5)
    if layer.bias is not None:
        layer.bias.data[...] = randn(rng, *layer.bias.shape)


# -- Dense -------------------------------------------------------------------------
@given(n=st.integers(1, 5), fin=st.integers(1, 8), fout=st.integers(1, 8),
       bias=st.booleans(), seed=seeds)
def test_dense(n, fin, fout, bias, seed):
    rng = np.random.default_rng(seed)
    layer = mg.nn.Dense(fin, fout, bias, dtype="float64")
    set_params(layer, rng)
    x, gy = randn(rng, n, fin), randn(rng, n, fout)
    tx, tw = leaf(x), leaf(layer.weight.data.T)
    tb = leaf(layer.bias.data) if bias else None
    ty = F.linear(tx, tw, tb)
    ty.backward(torch.tensor(gy))
    assert_close(layer(x), ty, "Dense y")
    assert_close(layer.backward(gy), tx.grad, "Dense gx")
    assert_close(layer.weight.grad, tw.grad.T, "Dense gW")
    if bias:
        assert_close(layer.bias.grad, tb.grad, "Dense gb")


# -- Conv2d / ConvTranspose2d modules ----------------------------------------------
@st.composite
def conv_configs(draw, transpose):
    geometry = draw(conv_geometry(transpose, max_kernel=5, max_size=9))
    return dict(n=draw(st.integers(1, 3)), cin=draw(st.integers(1, 4)),
                cout=draw(st.integers(1, 4)), **geometry, bias=draw(st.booleans()),
                seed=draw(seeds))


def _check_conv_module(layer, cfg, torch_op, **torch_kwargs):
    rng = np.random.default_rng(cfg["seed"])
    set_params(layer, rng)
    x = randn(rng, cfg["n"], *cfg["hw"], cfg["cin"])
    gy = randn(rng, cfg["n"], *cfg["out"], cfg["cout"])
    name = type(layer).__name__
    tx, tw = nhwc_to_nchw(x), leaf(kernel_to_torch(layer.weight.data))
    tb = leaf(layer.bias.data) if cfg["bias"] else None
    ty = torch_op(tx, tw, tb, stride=cfg["s"], padding=cfg["p"], **torch_kwargs)
    ty.backward(nhwc_to_nchw(gy, grad=False))
    assert_close(layer(x), nchw_to_nhwc(ty), f"{name} y")
    assert_close(layer.backward(gy), nchw_to_nhwc(tx.grad), f"{name} gx")
    assert_close(kernel_to_torch(layer.weight.grad), tw.grad, f"{name} gW")
    if cfg["bias"]:
        assert_close(layer.bias.grad, tb.grad, f"{name} gb")


@given(cfg=conv_configs(transpose=False))
def test_conv2d_module(cfg):
    layer = mg.nn.Conv2d(cfg["cin"], cfg["cout"], cfg["k"], stride=cfg["s"], padding=cfg["p"],
                         bias=cfg["bias"], dtype="float64")
    _check_conv_module(layer, cfg, F.conv2d)


@given(cfg=conv_configs(transpose=True))
def test_conv_transpose2d_module(cfg):
    layer = mg.nn.ConvTranspose2d(cfg["cin"], cfg["cout"], cfg["k"], stride=cfg["s"],
                                  padding=cfg["p"], output_padding=cfg["op"],
                                  bias=cfg["bias"], dtype="float64")
    _check_conv_module(layer, cfg, F.conv_transpose2d, output_padding=cfg["op"])


# -- BatchNorm ---------------------------------------------------------------------
def _bn_pair(two_d, c, momentum, rng):
    ours = (mg.nn.BatchNorm2d if two_d else mg.nn.BatchNorm1d)(c, momentum=momentum,
                                                                dtype="float64")
    ours.weight.data[...] = 1 + 0.5 * randn(rng, c)
    ours.bias.data[...] = randn(rng, c)
    theirs = (torch.nn.BatchNorm2d if two_d else torch.nn.BatchNorm1d)(
        c, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
        theirs.bias.copy_(torch.tensor(ours.bias.data))
    return ours, theirs


def _bn_step(ours, theirs, x, gy, label):
    """One forward + backward of both; compare y, gx, ggamma, gbeta, running stats."""
    two_d = x.ndim == 4
    ours.zero_grad(), theirs.zero_grad()
    tx = nhwc_to_nchw(x) if two_d else leaf(x)
    ty = theirs(tx)
    ty.backward(nhwc_to_nchw(gy, grad=False) if two_d else torch.tensor(gy))
    y, gx = ours(x), ours.backward(gy)
    assert_close(y, nchw_to_nhwc(ty) if two_d else ty, f"{label} y")
    assert_close(gx, nchw_to_nhwc(tx.grad) if two_d else tx.grad, f"{label} gx")
    assert_close(ours.weight.grad, theirs.weight.grad, f"{label} ggamma")
    assert_close(ours.bias.grad, theirs.bias.grad, f"{label} gbeta")
    assert_close(ours.running_mean, theirs.running_mean, f"{label} running_mean")
    assert_close(ours.running_var, theirs.running_var, f"{label} running_var")


@settings(max_examples=25)
@given(two_d=st.booleans(), n=st.integers(1, 4), hw=st.tuples(st.integers(1, 4),
       st.integers(1, 4)), c=st.integers(1, 5), passes=st.integers(1, 4),
       momentum=st.sampled_from([0.01, 0.3, 0.5, 0.9, 1.0]), seed=seeds)
def test_batchnorm_training_and_running_stats(two_d, n, hw, c, passes, momentum, seed):
    shape = (n, *hw, c) if two_d else (n, c)
    assume(np.prod(shape[:-1]) >= 2)   # training mode needs 2+ values per channel
    rng = np.random.default_rng(seed)
    ours, theirs = _bn_pair(two_d, c, momentum, rng)
    for i in range(passes):            # running stats after one and after several passes
        x = randn(rng, *shape, scale=2.0) + randn(rng, c)
        _bn_step(ours, theirs, x, randn(rng, *shape), f"BatchNorm{'2d' if two_d else '1d'} "
                 f"train pass {i + 1}")


@settings(max_examples=20)
@given(two_d=st.booleans(), n=st.integers(1, 4), hw=st.tuples(st.integers(1, 4),
       st.integers(1, 4)), c=st.integers(1, 5), seed=seeds)
def test_batchnorm_eval(two_d, n, hw, c, seed):
    shape = (n, *hw, c) if two_d else (n, c)
    rng = np.random.default_rng(seed)
    ours, theirs = _bn_pair(two_d, c, 0.1, rng)
    mean, var = randn(rng, c), rng.uniform(0.2, 3.0, c)
    ours.running_mean[...], ours.running_var[...] = mean, var
    with torch.no_grad():
        theirs.running_mean.copy_(torch.tensor(mean))
        theirs.running_var.copy_(torch.tensor(var))
    ours.eval(), theirs.eval()
    x = randn(rng, *shape, scale=2.0)
    _bn_step(ours, theirs, x, randn(rng, *shape), f"BatchNorm{'2d' if two_d else '1d'} eval")


# -- activations -------------------------------------------------------------------
EXTREMES = np.array([40.0, -40.0, 1000.0, -1000.0, 20.0, -20.0])


def _activation_input(rng, shape, extremes):
    """Off-zero values, one of them moderate (|x| <= 3); with ``extremes``, some of the
    others (all of a 1-element input) become +-20, +-40, +-1000.

    The moderate entry keeps max|gx| well above round-off: for 8 < |x| < 19, both
    libraries' 1 - tanh(x)^2 is ~1e-16 of absolute noise, so an input made only of such
    values would compare noise with noise. (A lone extreme is safe: tanh rounds to +-1
    there, and both compute the sigmoid's 1 - y from the same y.)
    """
    x = off_zero(rng, *shape) * rng.choice([0.1, 1.0, 5.0])
    flat = x.reshape(-1)
    flat[0] = np.clip(off_zero(rng, 1)[0], -3, 3)
    if extremes:
        k = min(flat.size - 1, EXTREMES.size) or 1
        where = rng.permutation(flat.size - 1)[:k] + 1 if flat.size > 1 else [0]
        flat[where] = rng.permutation(EXTREMES)[:k]
    return x


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "Tanh", "Sigmoid"])
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       slope=st.floats(-2.0, 3.0), extremes=st.booleans(), seed=seeds)
def test_activations(name, shape, slope, extremes, seed):
    rng = np.random.default_rng(seed)
    layer = mg.nn.LeakyReLU(slope) if name == "LeakyReLU" else getattr(mg.nn, name)()
    theirs = {"ReLU": F.relu, "LeakyReLU": lambda t: F.leaky_relu(t, slope),
              "Tanh": torch.tanh, "Sigmoid": torch.sigmoid}[name]
    x, gy = _activation_input(rng, shape, extremes), randn(rng, *shape)
    tx = leaf(x)
    theirs(tx).backward(torch.tensor(gy))
    assert_close(layer(x), theirs(tx), f"{name} y")
    assert_close(layer.backward(gy), tx.grad, f"{name} gx")


# -- BCEWithLogits -----------------------------------------------------------------
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3),
       scale=st.sampled_from([0.1, 1.0, 30.0, 1e4]), seed=seeds)
def test_bce_with_logits(shape, scale, seed):
    rng = np.random.default_rng(seed)
    logits = np.clip(randn(rng, *shape, scale=scale), -1e4, 1e4)
    flat = logits.reshape(-1)
    flat[rng.integers(flat.size)] = rng.choice([1e4, -1e4])      # always one at the edge
    targets = rng.uniform(0, 1, shape)
    tflat = targets.reshape(-1)
    tflat[rng.random(tflat.size) < 0.2] = rng.choice([0.0, 1.0])  # hard labels too
    upstream = rng.uniform(0.1, 3.0) * rng.choice([-1, 1])
    loss = mg.losses.BCEWithLogits()
    value = loss(logits, targets)
    tz = leaf(logits)
    tvalue = F.binary_cross_entropy_with_logits(tz, torch.tensor(targets))
    (tvalue * upstream).backward()
    assert np.isfinite(value)
    assert_close(np.array(value), tvalue, "BCEWithLogits value")
    assert_close(loss.backward(upstream), tz.grad, "BCEWithLogits grad")


# -- optimizers --------------------------------------------------------------------
SHAPES = [(3, 4), (5,), (2, 2, 3)]


def _run_optimizer(make_ours, make_theirs, seed, steps=5):
    rng = np.random.default_rng(seed)
    initial = [randn(rng, *s) for s in SHAPES]
    ours = [mg.nn.Parameter(a.copy()) for a in initial]
    theirs = [torch.tensor(a, requires_grad=True) for a in initial]
    opt, topt = make_ours(ours), make_theirs(theirs)
    for step in range(1, steps + 1):
        for p, tp in zip(ours, theirs):
            g = randn(rng, *p.shape, scale=rng.choice([0.01, 1.0, 10.0]))
            p.grad[...] = g
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for i, (p, tp, p0) in enumerate(zip(ours, theirs, initial)):
            what = f"{type(opt).__name__} step {step} param {i}"
            assert_close(p.data, tp, what)
            assert_close(p.data - p0, tp.detach().numpy() - p0, what + " (displacement)")


@settings(max_examples=20)
@given(lr=st.sampled_from([1e-4, 2e-4, 1e-3, 0.1]),
       betas=st.sampled_from([(0.5, 0.999), (0.9, 0.999), (0.0, 0.9), (0.8, 0.5)]),
       eps=st.sampled_from([1e-8, 1e-3]), weight_decay=st.sampled_from([0.0, 0.01, 0.5]),
       seed=seeds)
@example(lr=2e-4, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.0, seed=0)
@example(lr=2e-4, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.01, seed=1)
def test_adam(lr, betas, eps, weight_decay, seed):
    _run_optimizer(
        lambda ps: mg.optim.Adam(ps, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay),
        lambda ps: torch.optim.Adam(ps, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay),
        seed)


@settings(max_examples=20)
@given(lr=st.sampled_from([1e-3, 0.01, 0.1]), momentum=st.sampled_from([0.0, 0.5, 0.9]),
       weight_decay=st.sampled_from([0.0, 0.01, 0.5]), seed=seeds)
@example(lr=0.01, momentum=0.0, weight_decay=0.0, seed=0)
@example(lr=0.01, momentum=0.9, weight_decay=0.01, seed=1)
def test_sgd(lr, momentum, weight_decay, seed):
    _run_optimizer(
        lambda ps: mg.optim.SGD(ps, lr=lr, momentum=momentum, weight_decay=weight_decay),
        lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, weight_decay=weight_decay),
        seed)


@settings(max_examples=20)
@given(lr=st.sampled_from([5e-5, 1e-3, 0.01]), alpha=st.sampled_from([0.99, 0.9, 0.5]),
       eps=st.sampled_from([1e-8, 1e-3]), weight_decay=st.sampled_from([0.0, 0.01]),
       seed=seeds)
@example(lr=5e-5, alpha=0.99, eps=1e-8, weight_decay=0.0, seed=0)
def test_rmsprop(lr, alpha, eps, weight_decay, seed):
    _run_optimizer(
        lambda ps: mg.optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay),
        lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps,
                                       weight_decay=weight_decay),
        seed)


# -- whole DCGAN Sequentials -------------------------------------------------------
def weight_to_torch(layer, w, hwc):
    """Our weight (or its gradient) in the torch twin's layout. A Dense next to a
    Flatten (D) or Reshape (G) has its (h, w, c)-ordered side reordered to (c, h, w)."""
    if isinstance(layer, (mg.nn.Conv2d, mg.nn.ConvTranspose2d)):
        return kernel_to_torch(w)
    if not isinstance(layer, mg.nn.Dense):
        return w
    h, wd, c = hwc
    if w.shape[0] == h * wd * c:     # D: (H*W*C, out) -> (out, C*H*W)
        return w.reshape(h, wd, c, -1).transpose(3, 2, 0, 1).reshape(w.shape[1], -1)
    return w.reshape(-1, h, wd, c).transpose(3, 1, 2, 0).reshape(-1, w.shape[0])  # G


def bias_to_torch(layer, b, hwc):    # G's Dense bias (H*W*C,) -> (C*H*W,)
    if isinstance(layer, mg.nn.Dense) and b.size == np.prod(hwc):
        return b.reshape(hwc).transpose(2, 0, 1).reshape(-1)
    return b


def torch_twin(layer, hwc):
    """The torch (NCHW) module equivalent to one of our layers, weights copied."""
    nn, f64 = torch.nn, dict(dtype=torch.float64)
    if isinstance(layer, mg.nn.Conv2d):
        t = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride,
                      layer.padding, **f64)
    elif isinstance(layer, mg.nn.ConvTranspose2d):
        t = nn.ConvTranspose2d(layer.in_channels, layer.out_channels, layer.kernel_size,
                               layer.stride, layer.padding, layer.output_padding, **f64)
    elif isinstance(layer, mg.nn.BatchNorm2d):
        t = nn.BatchNorm2d(layer.num_features, layer.eps, layer.momentum, **f64)
    elif isinstance(layer, mg.nn.Dense):
        t = nn.Linear(layer.in_features, layer.out_features, **f64)
    elif isinstance(layer, mg.nn.LeakyReLU):
        return nn.LeakyReLU(layer.negative_slope)
    else:
        return {mg.nn.ReLU: nn.ReLU, mg.nn.Tanh: nn.Tanh, mg.nn.Flatten: nn.Flatten,
                mg.nn.Reshape: lambda: nn.Unflatten(1, (hwc[2], hwc[0], hwc[1]))
                }[type(layer)]()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(weight_to_torch(layer, layer.weight.data, hwc)))
        t.bias.copy_(torch.tensor(bias_to_torch(layer, layer.bias.data, hwc)))
    return t


DCGAN_SETTINGS = settings(max_examples=4, phases=[Phase.explicit, Phase.reuse, Phase.generate])


def _check_sequential(model, seq, x, gy, rng, hwc=(7, 7, 128)):
    for layer in model:              # random weights, scaled to keep activations O(1)
        if isinstance(layer, mg.nn.BatchNorm2d):
            layer.weight.data[...] = 1 + 0.2 * randn(rng, layer.num_features)
            layer.bias.data[...] = randn(rng, layer.num_features)
        elif hasattr(layer, "weight"):
            set_params(layer, rng)
            w = layer.weight.data
            w *= 4 / np.sqrt(w.size // w.shape[-1])
    twins = [torch_twin(layer, hwc) for layer in model]
    tx = nhwc_to_nchw(x) if x.ndim == 4 else leaf(x)
    ty = torch.nn.Sequential(*twins)(tx)
    ty.backward(nhwc_to_nchw(gy, grad=False) if gy.ndim == 4 else torch.tensor(gy))
    y, gx = model(x), model.backward(gy)
    assert_close(y, nchw_to_nhwc(ty) if y.ndim == 4 else ty, f"{seq} output")
    assert_close(gx, nchw_to_nhwc(tx.grad) if x.ndim == 4 else tx.grad, f"{seq} gx")
    for i, (layer, t) in enumerate(zip(model, twins)):
        if not hasattr(layer, "weight"):
            continue
        name = f"{seq}[{i}] {type(layer).__name__}"
        assert_close(weight_to_torch(layer, layer.weight.grad, hwc), t.weight.grad, name + " gW")
        gb = bias_to_torch(layer, layer.bias.grad, hwc)
        if i + 1 < len(model) and isinstance(model[i + 1], mg.nn.BatchNorm2d):
            # a bias feeding a BatchNorm cancels out: its true gradient is 0, so both
            # sides must be round-off only (relative to the weight gradient)
            scale = np.abs(t.weight.grad.numpy()).max()
            assert max(np.abs(gb).max(), t.bias.grad.abs().max().item()) / scale < TOL, name
        else:
            assert_close(gb, t.bias.grad, name + " gb")
        if isinstance(layer, mg.nn.BatchNorm2d):
            assert_close(layer.running_mean, t.running_mean, name + " running_mean")
            assert_close(layer.running_var, t.running_var, name + " running_var")


@DCGAN_SETTINGS
@given(n=st.integers(1, 3), seed=seeds)
def test_dcgan_discriminator(n, seed):
    nn, f64 = mg.nn, dict(dtype="float64")
    model = nn.Sequential(
        nn.Conv2d(1, 64, 5, stride=2, padding=2, **f64), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 5, stride=2, padding=2, **f64), nn.BatchNorm2d(128, **f64),
        nn.LeakyReLU(0.2), nn.Flatten(), nn.Dense(7 * 7 * 128, 1, **f64))
    rng = np.random.default_rng(seed)
    x = np.tanh(randn(rng, n, 28, 28, 1))
    _check_sequential(model, "D", x, randn(rng, n, 1), rng)


@DCGAN_SETTINGS
@given(n=st.integers(1, 3), seed=seeds)
def test_dcgan_generator(n, seed):
    nn, f64 = mg.nn, dict(dtype="float64")
    model = nn.Sequential(
        nn.Dense(100, 7 * 7 * 128, **f64), nn.Reshape(7, 7, 128),
        nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1, **f64),
        nn.BatchNorm2d(64, **f64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1, **f64), nn.Tanh())
    rng = np.random.default_rng(seed)
    _check_sequential(model, "G", randn(rng, n, 100), randn(rng, n, 28, 28, 1), rng)
