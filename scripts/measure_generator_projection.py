#!/usr/bin/env python
"""minigan's DCGAN generator against the same generator with BatchNorm + ReLU after its
projection (Dense -> Reshape), in short runs from the same seed.

Usage (from the repository root)::

    python scripts/measure_generator_projection.py [--steps 300] [--seed 0] [--eval-n 1000]

``dcgan_generator()`` has no nonlinearity between its Dense(100, 6272) and its first
ConvTranspose2d, so the two compose into one linear map of z; Radford et al.'s DCGAN puts
BatchNorm and ReLU after the projection. The variant inserts BatchNorm2d(128) + ReLU after
the Reshape; every shared layer starts from the same weights (the new BatchNorm at
gamma 1, beta 0). Each generator is trained against a fresh
``dcgan_discriminator()`` with minigan's Trainer (non-saturating, real label 0.9, Adam 2e-4,
batch 64) on the embedded MNIST sample, in the same data order, and scored with
``minigan.metrics.evaluate_samples`` (Frechet distance in the small classifier's feature
space, classes present) on ``--eval-n`` samples. Short runs: a first look, not a ranking.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigan as mg  # noqa: E402


def variant_generator(rng):
    G = mg.gan.dcgan_generator(rng=rng)
    layers = list(G)
    layers[2:2] = [mg.nn.BatchNorm2d(128), mg.nn.ReLU()]
    return mg.nn.Sequential(*layers)     # the shared layers keep the same initial weights


def run(name, G, args, x_all):
    D = mg.gan.dcgan_discriminator(rng=mg.backend.default_rng(args.seed + 1))
    trainer = mg.gan.Trainer(G, D, seed=args.seed)
    order = np.random.default_rng(args.seed).permutation(len(x_all))
    started = time.time()
    for step in range(args.steps):
        batch = order[(step * 64) % (len(x_all) - 64):][:64]
        stats = trainer.step(x_all[batch])
    seconds = time.time() - started
    eval_rng = mg.backend.default_rng(10_000 + args.seed)
    fake = trainer.sample(args.eval_n, z=eval_rng.standard_normal((args.eval_n, 100),
                                                                  dtype="float32"))
    result = mg.metrics.evaluate_samples(mg.backend.to_numpy(fake))
    print(f"{name}: {args.steps} steps in {seconds:.0f} s; last step loss_d "
          f"{stats['loss_d']:.3f} loss_g {stats['loss_g']:.3f}; FD "
          f"{result['frechet_distance']:.1f}, classes {result['classes_present']}", flush=True)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-n", type=int, default=1000)
    args = parser.parse_args(argv)
    images, _ = mg.data.load_embedded_mnist(quiet=True)
    x_all = mg.data.to_unit_range(images)
    run("dcgan_generator (Dense -> Reshape -> ConvT)", mg.gan.dcgan_generator(
        rng=mg.backend.default_rng(args.seed)), args, x_all)
    run("with BatchNorm2d + ReLU after the Reshape", variant_generator(
        mg.backend.default_rng(args.seed)), args, x_all)
    return 0


if __name__ == "__main__":
    sys.exit(main())
