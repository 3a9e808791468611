"""The conditional DCGAN's projection discriminator (Miyato & Koyama 2018) against PyTorch
autograd (float64): the projection on a small trunk, and the whole 28x28 network with
BatchNorm on batch statistics and minibatch standard deviation, written in torch
operations (NHWC, convolutions through a permutation to NCHW); forward output, input
gradient and every parameter gradient for a random upstream gradient, to a relative error
max|ours - torch| / max|torch| below 1e-8."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigan as mg

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

# the comparison helpers of the layer parity tests (1e-8 relative, float64)
from test_torch_parity import TOL, assert_close, leaf  # noqa: E402

seeds = st.integers(0, 2**32 - 1)


@given(n=st.integers(1, 4), features=st.integers(1, 6), classes=st.integers(2, 4), seed=seeds)
def test_projection_discriminator(n, features, classes, seed):
    """Dense trunk, Dense head, class embedding E: head(h) + sum(E[y] * h) with h = tanh(x W)."""
    rng = mg.backend.default_rng(seed)
    f64 = {"dtype": "float64", "rng": rng}
    trunk = mg.nn.Sequential(mg.nn.Dense(3, features, **f64), mg.nn.Tanh())
    D = mg.nn.ProjectionDiscriminator(trunk, mg.nn.Dense(features, 1, **f64),
                                      mg.nn.Dense(classes, features, bias=False, **f64))
    host = np.random.default_rng(seed)
    x, labels = host.standard_normal((n, 3)), host.integers(0, classes, n)
    gy = host.standard_normal((n, 1))
    tw1, tb1 = leaf(trunk[0].weight.data), leaf(trunk[0].bias.data)
    tw2, tb2 = leaf(D.head.weight.data), leaf(D.head.bias.data)
    te = leaf(D.embed.weight.data)
    tx = leaf(x)
    th = torch.tanh(tx @ tw1 + tb1)
    ty = th @ tw2 + tb2 + (te[torch.tensor(labels)] * th).sum(dim=1, keepdim=True)
    ty.backward(torch.tensor(gy))
    assert_close(D(x, labels), ty, "projection y")
    assert_close(D.backward(gy), tx.grad, "projection gx")
    for ours, theirs in ((trunk[0].weight, tw1), (trunk[0].bias, tb1), (D.head.weight, tw2),
                         (D.head.bias, tb2), (D.embed.weight, te)):
        assert_close(ours.grad, theirs.grad, "projection parameter gradient")


def torch_trunk(D, t, leaves, minibatch_stddev):
    """The DCGAN discriminator's layers 0-5 in torch ops, on NHWC t."""
    def conv(layer, u):
        w = leaves[layer.weight].permute(3, 2, 0, 1)
        return F.conv2d(u.permute(0, 3, 1, 2), w, leaves[layer.bias], stride=2,
                        padding=2).permute(0, 2, 3, 1)

    trunk = D.trunk
    h = F.leaky_relu(conv(trunk[0], t), 0.2)
    h = conv(trunk[2], h).permute(0, 3, 1, 2)
    h = F.batch_norm(h, None, None, leaves[trunk[3].weight], leaves[trunk[3].bias],
                     training=True, eps=trunk[3].eps).permute(0, 2, 3, 1)
    h = F.leaky_relu(h, 0.2)
    if minibatch_stddev:
        s = torch.sqrt(h.var(dim=0, unbiased=False) + 1e-8).mean()
        h = torch.cat([h, s.expand(*h.shape[:-1], 1)], dim=-1)
    return h.reshape(h.shape[0], -1)


@settings(max_examples=5)
@given(n=st.integers(2, 3), seed=seeds)
@pytest.mark.parametrize("minibatch_stddev", [False, True])
def test_conditional_dcgan_discriminator(minibatch_stddev, n, seed):
    """The whole 28x28 projection discriminator (BatchNorm on batch statistics): the trunk
    in torch ops, then head(h) + sum(E[y] * h)."""
    D = mg.gan.conditional_dcgan_discriminator(minibatch_stddev=minibatch_stddev,
                                               dtype="float64", rng=mg.backend.default_rng(seed))
    rng = np.random.default_rng(seed)
    for p in D.parameters():  # non-zero biases, BatchNorm's gamma away from 1
        if p.data.ndim == 1:
            p.data[...] = rng.standard_normal(p.shape) * 0.1 + (p is D.trunk[3].weight)
    x, labels = np.tanh(rng.standard_normal((n, 28, 28, 1))), rng.integers(0, 10, n)
    gy = rng.standard_normal((n, 1))
    leaves = {p: leaf(p.data) for p in D.parameters()}
    tx = leaf(x)
    th = torch_trunk(D, tx, leaves, minibatch_stddev)
    ty = (th @ leaves[D.head.weight] + leaves[D.head.bias]
          + (leaves[D.embed.weight][torch.tensor(labels)] * th).sum(dim=1, keepdim=True))
    ty.backward(torch.tensor(gy))
    assert_close(D(x, labels), ty, "conditional D y")
    assert_close(D.backward(gy), tx.grad, "conditional D gx")
    for name, p in D.named_parameters():
        if name == "trunk.2.bias":  # feeds BatchNorm: true gradient 0, round-off on both sides
            scale = np.abs(leaves[D.trunk[2].weight].grad.numpy()).max()
            assert max(np.abs(p.grad).max(), leaves[p].grad.abs().max().item()) / scale < TOL
        else:
            assert_close(p.grad, leaves[p].grad, f"conditional D {name}")
