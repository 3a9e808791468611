#!/usr/bin/env python
"""How often does the 1-D lab's GAN collapse onto one mode, with each remedy in D?

Usage (from the repository root)::

    python scripts/measure_mode_collapse_1d.py [--seeds 20] [--steps 3000] [--remedy sn]

The settings of examples/gaussian_1d.py's section 4 (data 1/2 N(-3, 0.5^2) + 1/2 N(3, 0.5^2),
G 1 -> 16 -> 1, D 1 -> 32 -> 32 -> 1, non-saturating loss, lr 2e-3, batch 128), for seeds
0 .. seeds-1, with D plain ("plain"), with MinibatchStdDev ("mbsd") or with every Dense
of D wrapped in SpectralNorm ("sn"). A run collapses when its weaker mode's coverage (the
fraction of G's samples within 2 std of it) is below 0.05 at the last step; it covers
both modes when both coverages are >= 0.25. Prints one line per run and the counts.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigan as mg  # noqa: E402
from minigan.gan import lab1d  # noqa: E402
from minigan.gan.lab1d_train import train_gan_1d  # noqa: E402


def discriminator(remedy, seed):
    rng = mg.backend.default_rng(200 + seed)
    D = lab1d.mlp_1d_discriminator(hidden=(32, 32), minibatch_stddev=remedy == "mbsd",
                                   rng=rng)
    if remedy == "sn":
        D = mg.nn.Sequential(*[mg.nn.SpectralNorm(layer) if isinstance(layer, mg.nn.Dense)
                               else layer for layer in D])
    return D


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--remedy", choices=["plain", "mbsd", "sn"], default="sn")
    args = parser.parse_args(argv)
    mixture = lab1d.GaussianMixture([-3.0, 3.0], [0.5, 0.5])
    collapsed = both = 0
    for seed in range(args.seeds):
        G = lab1d.mlp_1d_generator(latent_dim=1, hidden=(16,),
                                   rng=mg.backend.default_rng(100 + seed))
        run = train_gan_1d(mixture, G, discriminator(args.remedy, seed), steps=args.steps,
                           batch_size=128, lr_d=2e-3, lr_g=2e-3,
                           snapshot_steps=[0, args.steps], seed=seed,
                           grid=lab1d.make_grid(-6.0, 6.0, 601), n_eval=4000, bandwidth=0.1)
        low, high = run.final.coverage
        collapsed += min(low, high) < 0.05
        both += min(low, high) >= 0.25
        print(f"{args.remedy} seed {seed}: coverage {low:.3f} / {high:.3f}", flush=True)
    print(f"{args.remedy}: {collapsed} of {args.seeds} runs collapsed (weaker mode < 0.05), "
          f"{both} of {args.seeds} cover both modes (each >= 0.25)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
