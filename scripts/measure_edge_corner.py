#!/usr/bin/env python
"""Why the bottom-right corner of every gradient and saliency map is blue.

Usage (from the repository root)::

    python scripts/measure_edge_corner.py [--steps 300] [--seed 0]

Trains the MNIST DCGAN (minigan's Trainer, non-saturating loss, batch 64, the embedded
MNIST sample, float32) and at steps 100, 200, ... measures, over 256 real digits and 256
samples of G:

- G's corner pixel (27, 27) and the borders against the real digits' (background -1):
  the corner is the pixel G controls least -- its last ConvTranspose2d gives it 1 kernel
  tap of the 14x14 map's corner, which itself got 1 tap of the 7x7 map (interior pixels:
  4, 6 or 9 per layer; ``python scripts/make_doc_figures.py`` draws the counts);
- D's saliency dD/dx (``minigan.inspect.saliency``) at the corner: its mean, the fraction
  of samples where it is negative ("raising this pixel lowers D's logit", blue in the
  maps), against the interior's.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import minigan as mg  # noqa: E402
from minigan.inspect import saliency  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    images, _ = mg.data.load_embedded_mnist(quiet=True)
    x_all = mg.data.to_unit_range(images)
    G = mg.gan.dcgan_generator(rng=mg.backend.default_rng(args.seed))
    D = mg.gan.dcgan_discriminator(rng=mg.backend.default_rng(args.seed + 1))
    trainer = mg.gan.Trainer(G, D, seed=args.seed)
    order = np.random.default_rng(args.seed).permutation(len(x_all))
    started = time.time()
    real = x_all[:256]
    for step in range(1, args.steps + 1):
        batch = order[(step * 64) % (len(x_all) - 64):][:64]
        trainer.step(x_all[batch])
        if step % 100 and step != args.steps:
            continue
        fake = trainer.sample(256)
        f = fake[..., 0]
        print(f"step {step} ({time.time() - started:.0f} s): G's pixel (27, 27) mean "
              f"{f[:, 27, 27].mean():+.3f}, (0, 0) {f[:, 0, 0].mean():+.3f}; G's last row "
              f"{f[:, 27, :].mean():+.3f}, first row {f[:, 0, :].mean():+.3f}; the real "
              f"digits' corner {real[:, 27, 27, 0].mean():+.3f}", flush=True)
        for name, batch_images in (("real", real), ("fake", fake)):
            g = saliency(D, batch_images)[..., 0]
            interior = g[:, 2:26, 2:26]
            print(f"  dD/dx on {name}: corner mean {g[:, 27, 27].mean():+.4f}, negative on "
                  f"{(g[:, 27, 27] < 0).mean():.0%} of the samples; pixel (0, 0) "
                  f"{g[:, 0, 0].mean():+.4f}; interior mean {interior.mean():+.4f}, "
                  f"negative on {(interior < 0).mean():.0%}; mean |dD/dx| corner "
                  f"{np.abs(g[:, 27, 27]).mean():.4f}, interior {np.abs(interior).mean():.4f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
