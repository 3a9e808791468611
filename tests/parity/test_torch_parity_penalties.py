"""Both whole penalties against PyTorch's double backprop (float64, 1e-8).

The critic is a minigan Sequential -- the drawn stacks of test_penalties.py and the MNIST
critic's pattern -- and the same function is written in torch from the same weights
(leaves in minigan's layouts, converted inside torch's graph). PyTorch computes
g = autograd.grad(D(x).sum(), x, create_graph=True), the penalty of g, and its gradients
with respect to every parameter and x: what ``double_backprop`` computes by hand.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigan as mg
from minigan.gan.penalties import double_backprop, gradient_penalty_term, r1_term

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.torch

from test_penalties import image_critics, kink_distance, randomise, vector_critics  # noqa: E402

TOL = 1e-8
seeds = st.integers(0, 2**31 - 1)


def torch_critic(D, h, leaves):
    """D's function in torch, from ``leaves``: {parameter: leaf tensor in our layout}."""
    def nchw(t):   # contiguous: torch's slow_conv2d double backward asks for it
        return t.permute(0, 3, 1, 2).contiguous()

    def nhwc(t):
        return t.permute(0, 2, 3, 1)

    def bias(layer):
        return None if layer.bias is None else leaves[layer.bias]

    for layer in D:
        if isinstance(layer, mg.nn.Maxout):
            z = h @ leaves[layer.weight] + (0 if layer.bias is None else leaves[layer.bias])
            h = z.view(z.shape[0], layer.out_features, layer.pieces).max(dim=-1).values
        elif isinstance(layer, mg.nn.Dense):
            h = h @ leaves[layer.weight] + (0 if layer.bias is None else leaves[layer.bias])
        elif isinstance(layer, mg.nn.Conv2d):
            weight = leaves[layer.weight].permute(3, 2, 0, 1).contiguous()
            h = nhwc(TF.conv2d(nchw(h), weight, bias(layer), stride=layer.stride,
                               padding=layer.padding))
        elif isinstance(layer, mg.nn.ConvTranspose2d):
            weight = leaves[layer.weight].permute(3, 2, 0, 1).contiguous()
            h = nhwc(TF.conv_transpose2d(nchw(h), weight,
                                         bias(layer), stride=layer.stride, padding=layer.padding,
                                         output_padding=layer.output_padding))
        elif isinstance(layer, mg.nn.LayerNorm):
            h = TF.layer_norm(h, layer.normalized_shape, leaves[layer.weight],
                              leaves[layer.bias], eps=layer.eps)
        elif isinstance(layer, mg.nn.LeakyReLU):
            h = TF.leaky_relu(h, layer.negative_slope)
        elif isinstance(layer, (mg.nn.ReLU, mg.nn.Tanh, mg.nn.Sigmoid)):
            h = {mg.nn.ReLU: torch.relu, mg.nn.Tanh: torch.tanh,
                 mg.nn.Sigmoid: torch.sigmoid}[type(layer)](h)
        elif isinstance(layer, mg.nn.Flatten):
            h = h.reshape(h.shape[0], -1)
        elif isinstance(layer, mg.nn.Reshape):
            h = h.reshape(h.shape[0], *layer.shape)
        else:
            raise AssertionError(f"no torch version of {layer!r}")
    return h


PENALTIES = {
    "wgan-gp": (gradient_penalty_term(10.0, 1.0),
                lambda norms: 10.0 * ((norms - 1.0) ** 2).mean()),
    "r1": (r1_term(10.0), lambda norms: 5.0 * (norms ** 2).mean()),
}


def assert_matches_torch(D, x, name):
    term, formula = PENALTIES[name]
    D.zero_grad()
    ours = double_backprop(D, x, term, need_input_grad=True)
    parameters = D.parameters()
    leaves = {p: torch.tensor(p.data, requires_grad=True) for p in parameters}
    tx = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(torch_critic(D, tx, leaves).sum(), tx, create_graph=True)
    penalty = formula(g.reshape(g.shape[0], -1).norm(dim=1))
    grads = torch.autograd.grad(penalty, [leaves[p] for p in parameters] + [tx],
                                allow_unused=True)
    assert abs(ours.value - penalty.item()) <= TOL * abs(penalty.item())
    pairs = [(f"{name} d/d{what}", p.grad, g) for (what, p), g in zip(D.named_parameters(), grads)]
    pairs.append((f"{name} d/dx", ours.input_grad, grads[-1]))
    # a gradient that is exactly 0 in exact arithmetic (a bias whose shift a LayerNorm
    # removes) is round-off on both sides: arrays below 1e-6 of the largest gradient are
    # held to 1e-8 of 1e-6 of it instead of to their own size
    scale = max(float(g.abs().max()) for _, _, g in pairs if g is not None)
    for what, ours_array, theirs_tensor in pairs:
        theirs_array = 0.0 if theirs_tensor is None else theirs_tensor.numpy()
        size = max(float(np.abs(theirs_array).max()), 1e-6 * scale)
        error = float(np.abs(ours_array - theirs_array).max())
        assert error <= TOL * size, f"{what}: error {error:.2e} against {size:.2e}"


@given(case=st.one_of(image_critics(), vector_critics()),
       name=st.sampled_from(sorted(PENALTIES)), seed=seeds)
@settings(max_examples=30)
def test_drawn_critics(case, name, seed):
    D, shape = case
    randomise(D, seed)
    x = np.random.default_rng(seed + 1).standard_normal(shape)
    assume(kink_distance(D, x) > 1e-3)
    assume(input_gradient_size(D, x) > 1e-3)
    assert_matches_torch(D, x, name)


def input_gradient_size(D, x):
    """max |dD/dx| over the batch, for an upstream gradient of ones.

    A drawn critic can be nearly constant in x: a LayerNorm whose window holds one value
    that varies and padding (Conv2d(1, 1, 1, stride=2, padding=1) on a 2x2 image gives
    [w x + b, b, b, b]) outputs a pattern that only its eps lets depend on x, and
    |dD/dx| ~ 3e-5 with D(x) ~ 0.2. Every penalty gradient is then a difference of terms
    some 10^4 times larger than itself, computed to round-off of those terms -- on both
    sides -- not to 1e-8 of the result; such draws say nothing about the formulas."""
    y = D.forward(x)
    return float(np.abs(D.backward(np.ones_like(y))).max())


@pytest.mark.parametrize("name", sorted(PENALTIES))
@pytest.mark.parametrize("n", [1, 5])
def test_the_mnist_critic_at_small_size(name, n):
    """dcgan_critic's layers, at 12x12 instead of 28x28 (its parameters ~ N(0, 0.02))."""
    rng = mg.backend.default_rng(n)
    kw = {"dtype": "float64", "rng": rng}
    D = mg.gan.dcgan_init_(mg.nn.Sequential(
        mg.nn.Conv2d(1, 8, 5, stride=2, padding=2, **kw), mg.nn.LeakyReLU(0.2),
        mg.nn.Conv2d(8, 16, 5, stride=2, padding=2, **kw), mg.nn.LayerNorm((3, 3, 16),
                                                                           dtype="float64"),
        mg.nn.LeakyReLU(0.2), mg.nn.Flatten(), mg.nn.Dense(144, 1, **kw)), rng)
    x = np.random.default_rng(n).uniform(-1, 1, (n, 12, 12, 1))
    assert kink_distance(D, x) > 1e-6      # no kink crossed: torch and ours agree either way
    assert_matches_torch(D, x, name)
