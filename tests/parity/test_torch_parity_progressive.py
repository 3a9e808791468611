"""The progressive GAN's layers, the fade, equalised learning rates and the whole
progressive networks against PyTorch autograd (float64):
forward output, input gradient and every parameter gradient for a random upstream
gradient, to a relative error max|ours - torch| / max|torch| below 1e-8.

Upsample2d is compared with ``F.interpolate(mode="nearest")``, AvgPool2d with
``F.avg_pool2d``; PixelNorm, the fade and EqualizedLR are written in a
few torch operations (ProGAN's pixel norm: ``x / sqrt(mean_c x^2 + 1e-8)``). The whole
networks are rebuilt in torch from their own modules (``torch_forward``: one torch
operation per minigan layer, in NHWC, convolutions through a permutation to NCHW), and
compared at every stage and in the middle of the fades.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.gan.progressive import ProgressiveDiscriminator, ProgressiveGenerator

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

# the comparison helpers of the layer parity tests (1e-8 relative, float64)
from test_torch_parity import assert_close, leaf  # noqa: E402

seeds = st.integers(0, 2**32 - 1)
pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1)


def check_layer(layer, x, torch_fn, seed):
    """layer(x), layer.backward(gy) against torch_fn(leaf x) and autograd."""
    tx = leaf(x)
    ty = torch_fn(tx)
    gy = np.random.default_rng(seed).standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(gy))
    assert_close(layer(x), ty, f"{layer!r} y")
    assert_close(layer.backward(gy), tx.grad, f"{layer!r} gx")


@given(n=st.integers(1, 3), hw=pairs, c=st.integers(1, 3), scale=pairs, seed=seeds)
def test_upsample2d(n, hw, c, scale, seed):
    x = np.random.default_rng(seed).standard_normal((n, *hw, c))
    check_layer(mg.nn.Upsample2d(scale), x, lambda t: nhwc(F.interpolate(
        nchw(t), scale_factor=scale, mode="nearest")), seed + 1)


@given(n=st.integers(1, 3), kernel=pairs, extra=pairs, c=st.integers(1, 3), seed=seeds)
def test_avg_pool2d(n, kernel, extra, c, seed):
    """Sizes the kernel divides and sizes it does not (torch's floor rule drops the rest)."""
    hw = (kernel[0] + extra[0] - 1, kernel[1] + extra[1] - 1)
    x = np.random.default_rng(seed).standard_normal((n, *hw, c))
    check_layer(mg.nn.AvgPool2d(kernel), x, lambda t: nhwc(F.avg_pool2d(nchw(t), kernel)),
                seed + 1)


@given(shape=st.one_of(st.tuples(st.integers(1, 3), st.integers(2, 6)),
                       st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),
                                 st.integers(2, 4))),
       seed=seeds)
def test_pixel_norm(shape, seed):
    """ProGAN's pixel norm in torch ops: x / sqrt(mean over channels of x^2 + 1e-8). Two
    channels or more: with one, y = x / sqrt(x^2 + eps) is sign(x) up to eps, its gradient
    eps / (x^2 + eps)^(3/2) is a difference of nearly equal numbers in both libraries
    (tests/nn/test_resolution_layers.py checks that case against its closed form)."""
    x = np.random.default_rng(seed).standard_normal(shape)
    check_layer(mg.nn.PixelNorm(), x,
                lambda t: t / torch.sqrt((t * t).mean(dim=-1, keepdim=True) + 1e-8), seed + 1)


def conv_weight(layer):
    """A Conv2d's weight (KH, KW, C_in, C_out) as a torch leaf (C_out, C_in, KH, KW)."""
    return leaf(layer.weight.data.transpose(3, 2, 0, 1))


@given(n=st.integers(1, 2), hw=pairs, c=st.integers(1, 3), alpha=st.floats(0, 1), seed=seeds)
def test_fade(n, hw, c, alpha, seed):
    """alpha * conv3x3(up(x)) + (1 - alpha) * up(conv1x1(x)), every gradient."""
    rng = mg.backend.default_rng(seed)
    old_conv = mg.nn.Conv2d(c, 2, 1, dtype="float64", rng=rng)
    new_conv = mg.nn.Conv2d(c, 2, 3, padding=1, dtype="float64", rng=rng)
    for conv in (old_conv, new_conv):
        conv.bias.data[...] = rng.standard_normal(2)
    fade = mg.nn.Fade(mg.nn.Sequential(old_conv, mg.nn.Upsample2d(2)),
                      mg.nn.Sequential(mg.nn.Upsample2d(2), new_conv), alpha)
    tw = {conv: (conv_weight(conv), leaf(conv.bias.data)) for conv in (old_conv, new_conv)}

    def torch_fade(t):
        up = lambda u: F.interpolate(u, scale_factor=2, mode="nearest")  # noqa: E731
        old = up(F.conv2d(nchw(t), *tw[old_conv]))
        new = F.conv2d(up(nchw(t)), *tw[new_conv], padding=1)
        return nhwc(alpha * new + (1 - alpha) * old)

    check_layer(fade, np.random.default_rng(seed).standard_normal((n, *hw, c)), torch_fade,
                seed + 1)
    for conv in (old_conv, new_conv):
        assert_close(conv.weight.grad.transpose(3, 2, 0, 1), tw[conv][0].grad, "fade gW")
        assert_close(conv.bias.grad, tw[conv][1].grad, "fade gb")


@given(n=st.integers(1, 3), c_in=st.integers(1, 4), c_out=st.integers(1, 4),
       gain=st.floats(0.5, 2), seed=seeds)
def test_equalized_lr(n, c_in, c_out, gain, seed):
    """conv2d(x, c * W) + b, and c times its weight gradient reaching W."""
    rng = mg.backend.default_rng(seed)
    layer = mg.nn.EqualizedLR(mg.nn.Conv2d(c_in, c_out, 3, dtype="float64", rng=rng), gain,
                              rng=rng)
    layer.layer.bias.data[...] = rng.standard_normal(c_out)
    tw, tb = conv_weight(layer.layer), leaf(layer.layer.bias.data)
    c = gain / math.sqrt(9 * c_in)
    x = np.random.default_rng(seed).standard_normal((n, 4, 5, c_in))
    check_layer(layer, x, lambda t: nhwc(F.conv2d(nchw(t), c * tw, tb)), seed + 1)
    assert_close(layer.layer.weight.grad.transpose(3, 2, 0, 1), tw.grad, "EqualizedLR gW")
    assert_close(layer.layer.bias.grad, tb.grad, "EqualizedLR gb")


# -- the whole progressive networks ----------------------------------------------------

def torch_forward(module, t, leaves):
    """``module``'s forward in torch ops on the NHWC tensor t; ``leaves`` maps each minigan
    Parameter to its torch leaf."""
    nn = mg.nn
    if isinstance(module, (nn.Sequential, ProgressiveGenerator, ProgressiveDiscriminator)):
        for layer in (module.network() if hasattr(module, "network") else module):
            t = torch_forward(layer, t, leaves)
        return t
    if isinstance(module, nn.Fade):
        new, old = (torch_forward(module.new, t, leaves), torch_forward(module.old, t, leaves))
        return module.alpha * new + (1 - module.alpha) * old
    scale = 1.0
    if isinstance(module, nn.EqualizedLR):
        module, scale = module.layer, module.scale
    if isinstance(module, nn.Conv2d):
        w = leaves[module.weight].permute(3, 2, 0, 1)
        return nhwc(F.conv2d(nchw(t), scale * w, leaves[module.bias], stride=module.stride,
                             padding=module.padding))
    if isinstance(module, nn.Dense):
        return t @ (scale * leaves[module.weight]) + leaves[module.bias]
    if isinstance(module, nn.PixelNorm):
        return t / torch.sqrt((t * t).mean(dim=-1, keepdim=True) + 1e-8)
    if isinstance(module, nn.Upsample2d):
        return nhwc(F.interpolate(nchw(t), scale_factor=module.scale, mode="nearest"))
    if isinstance(module, nn.AvgPool2d):
        return nhwc(F.avg_pool2d(nchw(t), module.kernel_size))
    if isinstance(module, nn.LeakyReLU):
        return F.leaky_relu(t, module.negative_slope)
    if isinstance(module, nn.Tanh):
        return torch.tanh(t)
    if isinstance(module, nn.Reshape):
        return t.reshape(t.shape[0], *module.shape)
    if isinstance(module, nn.Flatten):
        return t.reshape(t.shape[0], -1)
    if isinstance(module, nn.MinibatchStdDev):
        s = torch.sqrt(t.var(dim=0, unbiased=False) + module.eps).mean()
        return torch.cat([t, s.expand(*t.shape[:-1], 1)], dim=-1)
    raise AssertionError(f"no torch twin for {module!r}")


def check_network(net, x, seed):
    rng = np.random.default_rng(seed)
    for p in net.parameters():  # non-zero biases, so no gradient hides
        if p.data.ndim == 1:
            p.data[...] = rng.standard_normal(p.shape) * 0.1
    leaves = {p: leaf(p.data) for p in net.parameters()}
    tx = leaf(x)
    ty = torch_forward(net, tx, leaves)
    gy = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(gy))
    net.zero_grad()
    assert_close(net(x), ty, f"{net!r} y")
    assert_close(net.backward(gy), tx.grad, f"{net!r} gx")
    # the parameters this stage's network uses (a path of weight 0 gets exact zeros in torch)
    used = [p for p in net.parameters()
            if leaves[p].grad is not None and leaves[p].grad.abs().max() > 0]
    for name, p in net.named_parameters():
        if p in used:
            assert_close(p.grad, leaves[p].grad, f"{net!r} {name}")
        else:  # a layer of a later stage: not in this stage's network
            assert not p.grad.any(), name
    return len(used)


GROWTH = [(0, 1.0), (1, 0.3), (1, 1.0), (2, 0.6), (2, 1.0)]


@settings(max_examples=3)
@given(seed=seeds)
@pytest.mark.parametrize("stage, alpha", GROWTH)
@pytest.mark.parametrize("equalized_lr", [False, True])
def test_progressive_generator(stage, alpha, equalized_lr, seed):
    G = ProgressiveGenerator(6, equalized_lr=equalized_lr, dtype="float64",
                             rng=mg.backend.default_rng(seed)).grow(stage, alpha)
    z = np.random.default_rng(seed).standard_normal((2, 6))
    used = check_network(G, z, seed + 1)
    assert used == 2 * (2 + stage + (stage and alpha < 1))  # base, blocks, 1 or 2 to_image


@settings(max_examples=3)
@given(seed=seeds)
@pytest.mark.parametrize("stage, alpha", GROWTH)
@pytest.mark.parametrize("equalized_lr, minibatch_stddev", [(False, True), (True, False)])
def test_progressive_discriminator(stage, alpha, equalized_lr, minibatch_stddev, seed):
    D = ProgressiveDiscriminator(minibatch_stddev=minibatch_stddev, equalized_lr=equalized_lr,
                                 dtype="float64", rng=mg.backend.default_rng(seed))
    D.grow(stage, alpha)
    r = D.resolution
    x = np.tanh(np.random.default_rng(seed).standard_normal((3, r, r, 1)))
    used = check_network(D, x, seed + 1)
    assert used == 2 * (3 + stage + (stage and alpha < 1))  # from_image(s), blocks, head

