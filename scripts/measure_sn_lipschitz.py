#!/usr/bin/env python
"""Does spectral normalisation bound the DCGAN discriminator's Lipschitz constant?

Usage (from the repository root)::

    python scripts/measure_sn_lipschitz.py [--steps 100] [--seed 0]

``dcgan_discriminator(spectral_norm=True)`` normalises its two convolutions and its Dense
layer but keeps the BatchNorm2d between them (Miyato et al. 2018 used no BatchNorm). The
script measures, on real digits (the embedded MNIST sample, float64):

1. each normalised layer's true operator norm, by power iteration on input perturbations
   (v <- J^T J v with J v = layer(x + v) - layer(x), J^T u = layer.backward(u)): the
   product over the layers (LeakyReLU is 1-Lipschitz) is the bound spectral
   normalisation gives a chain *without* BatchNorm;
2. BatchNorm's per-channel slope gamma / sqrt(var_batch + eps) in training mode;
3. ||grad_x D(x)_n||, the local Lipschitz constant of D at each real digit (D returns one
   number per sample, so the gradient's norm is the Jacobian's), with BatchNorm in
   training mode, and for the same layers with BatchNorm left out.

at initialisation and after ``--steps`` training steps of the DCGAN (batch 64, minigan's
Trainer, non-saturating loss). docs/layers/spectral_norm.md quotes the output.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigan as mg  # noqa: E402


def operator_norm(layer, x, iterations=30, seed=0):
    """The largest singular value of the affine layer's linear part at x (power iteration)."""
    rng = np.random.default_rng(seed)
    base = layer(x)
    v = rng.standard_normal(x.shape)
    sigma = 0.0
    for _ in range(iterations):
        v /= np.linalg.norm(v)
        jv = layer(x + v) - base
        layer.zero_grad()
        v = layer.backward(jv)
        sigma = float(np.sqrt(np.linalg.norm(v)))
    layer.zero_grad()
    return sigma


def gradient_norms(D, x):
    """||d D(x)_n / d x_n|| for every n, the batch held fixed (BatchNorm couples samples)."""
    norms = []
    for n in range(x.shape[0]):
        out = D(x)
        gy = np.zeros_like(out)
        gy[n] = 1.0
        D.zero_grad()
        norms.append(float(np.linalg.norm(D.backward(gy)[n])))
    D.zero_grad()
    return np.array(norms)


def measure(D, x, label):
    D.train()
    layers = list(D)
    bn = layers[3]
    h = x
    bounds = []
    for i, layer in enumerate(layers):
        if isinstance(layer, mg.nn.SpectralNorm):
            layer.eval()                      # u held fixed: the normalised weight is fixed
            bounds.append(operator_norm(layer, h))
            layer.train()
        if i == 3:
            var = h.reshape(-1, h.shape[-1]).var(axis=0)
            slopes = np.abs(bn.weight.data) / np.sqrt(var + bn.eps)
        h = layer(h)
    with_bn = gradient_norms(D, x)
    chain = mg.nn.Sequential(*[layer for i, layer in enumerate(layers) if i != 3])
    without_bn = gradient_norms(chain, x)
    print(f"{label}:")
    print("  operator norms of the normalised layers (power iteration): "
          + ", ".join(f"{b:.3f}" for b in bounds) + f"; product {np.prod(bounds):.3f}")
    print(f"  BatchNorm2d slopes gamma/sqrt(var_batch + eps) over 128 channels: "
          f"median {np.median(slopes):.2f}, max {slopes.max():.2f}")
    print(f"  ||grad_x D(x)_n|| over {x.shape[0]} real digits, BatchNorm in training mode: "
          f"median {np.median(with_bn):.3f}, max {with_bn.max():.3f}")
    print(f"  the same layers without the BatchNorm:                       "
          f"median {np.median(without_bn):.3f}, max {without_bn.max():.3f}")
    return bounds, slopes, with_bn, without_bn


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=32, help="real digits measured")
    args = parser.parse_args(argv)
    images, _ = mg.data.load_embedded_mnist(quiet=True)
    x_all = mg.data.to_unit_range(images).astype("float64")
    probe = x_all[:args.n]
    rng = mg.backend.default_rng(args.seed)
    G = mg.gan.dcgan_generator(dtype="float64", rng=rng)
    D = mg.gan.dcgan_discriminator(spectral_norm=True, dtype="float64", rng=rng)
    for _ in range(20):                       # let the power iterations' u converge
        D(probe)
    measure(D, probe, "at initialisation (after 20 forwards for the power iteration)")
    trainer = mg.gan.Trainer(G, D, seed=args.seed)
    order = np.random.default_rng(args.seed).permutation(len(x_all))
    for step in range(args.steps):
        batch = order[(step * 64) % (len(x_all) - 64):][:64]
        trainer.step(x_all[batch])
    measure(D, probe, f"after {args.steps} DCGAN training steps (batch 64, float64)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
