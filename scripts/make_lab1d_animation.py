#!/usr/bin/env python
"""The 1-D GAN lab's training as an animation (GIF), beside the still frames of
docs/gan_lab_1d.md.

Usage (from the repository root)::

    python scripts/make_lab1d_animation.py             # docs/figures/gaussian_1d/training.gif
    python scripts/make_lab1d_animation.py --out FILE --steps 400

The run of examples/gaussian_1d.py's section 1 (data N(2, 0.5^2); G z ~ N(0, I_4) -> 32 ->
32 -> 1; D x -> 32 -> 32 -> logit; non-saturating loss, Adam lr 1e-3, batch 128, three D
steps per G step, no label smoothing; seed 0), with a snapshot every 10 steps for the first
200 steps and every 50 after: each frame shows p_data, p_g (a KDE of G's samples), D(x),
D* = p_data / (p_data + p_g), and the step, the JSD and V(D, G) against -log 4. Written by
matplotlib's PillowWriter (Pillow comes with matplotlib).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.gan import lab1d  # noqa: E402
from minigan.gan.lab1d_train import train_gan_1d  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    parser.add_argument("--out", default=os.path.join(root, "docs", "figures", "gaussian_1d",
                                                      "training.gif"))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=int, default=8)
    args = parser.parse_args(argv)
    gauss = lab1d.Gaussian(2.0, 0.5)
    G = lab1d.mlp_1d_generator(latent_dim=4, hidden=(32, 32),
                               rng=backend.default_rng(args.seed + 1))
    D = lab1d.mlp_1d_discriminator(hidden=(32, 32), rng=backend.default_rng(args.seed + 2))
    grid = lab1d.make_grid(-3.0, 5.0, 641)
    snaps = sorted({*range(0, min(200, args.steps), 10), *range(0, args.steps + 1, 50)})
    run = train_gan_1d(gauss, G, D, steps=args.steps, batch_size=128, lr_d=1e-3, lr_g=1e-3,
                       d_steps=3, seed=args.seed, grid=grid, n_eval=2000,
                       snapshot_steps=snaps)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    twin = ax.twinx()
    p_max = max(max(s.p_g.max() for s in run.snapshots), run.p_data.max()) * 1.05

    def draw(i):
        snap = run.snapshots[i]
        ax.clear()
        twin.clear()
        ax.fill_between(run.x, run.p_data, color="0.6", alpha=0.5, label="p_data")
        ax.plot(run.x, snap.p_g, color="C0", label="p_g (KDE)")
        ax.set_ylim(0, p_max)
        ax.set_ylabel("density")
        ax.set_xlabel("x")
        twin.plot(run.x, snap.d, color="C3", label="D(x)")
        twin.plot(run.x, snap.d_star, color="C3", linestyle="--", linewidth=0.9, label="D*")
        twin.axhline(0.5, color="k", linestyle=":", linewidth=0.8)
        twin.set_ylim(0, 1)
        twin.set_ylabel("D(x)")
        ax.set_title(f"step {snap.step}: JSD {snap.jsd:.3f}, V(D, G) {snap.value:+.3f} "
                     f"(-log 4 = {lab1d.V_OPTIMUM:.3f})", fontsize=10)
        ax.legend(loc="upper left", fontsize=8)
        twin.legend(loc="upper right", fontsize=8)
        return []

    animation = FuncAnimation(fig, draw, frames=len(run.snapshots))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    animation.save(args.out, writer=PillowWriter(fps=args.fps), dpi=64)
    plt.close(fig)
    print(f"wrote {os.path.normpath(args.out)}: {len(run.snapshots)} frames, {args.steps} "
          f"steps in {run.seconds:.1f} s; JSD {run.snapshots[0].jsd:.3f} -> "
          f"{run.final.jsd:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
