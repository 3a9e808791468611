"""What a training step launches on the device path, counted on the strict backend.

A GPU runs each array operation as a kernel over the whole batch; a loop over samples or
chunks would make the number of launches grow with the batch and serialise the GPU. The
strict CuPy-like backend counts every operation on device arrays
(``strict_backend.count_operations``), so these properties are checked without a GPU:

* one ``Trainer.step`` of the DCGAN makes exactly as many array operations at batch 8 as
  at batch 512, operation by operation;
* the G step through the frozen discriminator computes none of D's weight gradients: its
  matrix products are exactly G's forward, D's forward, D's input gradients and G's
  backward -- the work is not done, not merely thrown away;
* the D step skips the input gradient of D's first layer (nobody needs dL/dimage there).
"""

import collections

import pytest
import strict_backend

import minigan as mg
from minigan import backend, engine


@pytest.fixture(autouse=True)
def _strict():
    previous = strict_backend.activate()
    yield
    strict_backend.deactivate(previous)


def dcgan_trainer(**options):
    rng = backend.default_rng(0)
    return mg.gan.Trainer(mg.gan.dcgan_generator(rng=rng), mg.gan.dcgan_discriminator(rng=rng),
                          seed=0, **options)


def real_batch(n):
    return backend.default_rng(1).uniform(-1, 1, (n, 28, 28, 1)).astype("float32")


def test_a_step_makes_the_same_operations_at_batch_8_and_512():
    counts = {}
    for n in (8, 512):
        trainer, real = dcgan_trainer(), real_batch(n)
        with strict_backend.count_operations() as log:
            trainer.step(real)
        counts[n] = log.counts
    assert counts[8] == counts[512]
    assert sum(counts[8].values()) > 500          # the whole step was counted
    assert counts[8]["strict_numpy.matmul"] >= 38   # and its products


def products_of_g(n, latent=100):
    """G's products (a.shape, b.shape): Dense, ConvTranspose2d(128 -> 64), (64 -> 1)."""
    forward = [((n, latent), (latent, 6272)), ((n * 49, 128), (128, 1600)),
               ((n * 196, 64), (64, 25))]
    backward = [((n * 196, 25), (25, 64)), ((25, n * 196), (n * 196, 64)),     # convT2: dx, dW
                ((n * 49, 1600), (1600, 128)), ((1600, n * 49), (n * 49, 128)),  # convT1: dx, dW
                ((latent, n), (n, 6272))]                                   # Dense: dW (no dz)
    return forward, backward


def products_of_d(n):
    """D's products: Conv2d(1 -> 64), Conv2d(64 -> 128), Dense(6272 -> 1)."""
    forward = [((n * 196, 25), (25, 64)), ((n * 49, 1600), (1600, 128)), ((n, 6272), (6272, 1))]
    input_grads = [((n, 1), (1, 6272)), ((n * 49, 128), (128, 1600)), ((n * 196, 64), (64, 25))]
    weight_grads = [((6272, n), (n, 1)), ((1600, n * 49), (n * 49, 128)),
                    ((25, n * 196), (n * 196, 64))]
    return forward, input_grads, weight_grads


@pytest.mark.parametrize("d_steps", [1, 2])
def test_the_g_step_through_the_frozen_discriminator_computes_no_d_weight_gradients(d_steps):
    """The products of the G step are G's forward, D's forward, D's input gradients (down
    to the image) and G's backward, and nothing else; D's parameters are unfrozen after."""
    n = 6
    trainer = dcgan_trainer(d_steps=d_steps)
    with engine.using("reference"):          # plain products: one matmul per GEMM
        with strict_backend.count_operations() as log:
            trainer._g_step(real_batch(n), None, n)
    g_forward, g_backward = products_of_g(n)
    d_forward, d_input_grads, _ = products_of_d(n)
    expected = g_forward + d_forward + d_input_grads + g_backward
    assert collections.Counter(log.products) == collections.Counter(expected)
    assert all(p.requires_grad for p in trainer.D.parameters())


def test_the_d_step_skips_only_the_first_layer_s_input_gradient():
    """Per D step: G's forward (no backward), then D's forward and backward on the real and
    on the fake batch, with every weight gradient and every input gradient but the image's."""
    n = 6
    trainer = dcgan_trainer()
    with engine.using("reference"):
        with strict_backend.count_operations() as log:
            trainer._d_step(real_batch(n), None, stream=16)
    g_forward, _ = products_of_g(n)
    d_forward, d_input_grads, d_weight_grads = products_of_d(n)
    per_batch = d_forward + d_input_grads[:2] + d_weight_grads
    assert collections.Counter(log.products) == collections.Counter(g_forward + 2 * per_batch)
