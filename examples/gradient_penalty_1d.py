# %% [markdown]
"""
# The WGAN critic in 1-D, with and without the gradient penalty

A WGAN critic D maximises mean D(x_real) - mean D(x_fake), the dual form of the
Wasserstein-1 distance -- which is that distance only if D is 1-Lipschitz. Here two copies
of the same small critic are trained against a **fixed** generator, one without any
constraint and one with WGAN-GP's penalty (Gulrajani et al. 2017)

    lambda * mean (|D'(x_hat)| - 1)^2,   x_hat = eps x_real + (1 - eps) x_fake,  eps ~ U[0, 1],

and we look at D(x) and its slope D'(x) on a grid. In one dimension ||grad_x D|| is |D'(x)|,
computed by minigan's handwritten input gradient (``mg.gan.input_gradient``); the penalty's
gradient with respect to the critic's weights goes through D's backward pass -- double
backprop, written by hand (docs/backprop_through_the_backprop.md).

Data: N(2, 0.5^2); the fixed generator: N(-2, 0.5^2). Moving the generator's mass onto the
data moves every unit by 4, so the Wasserstein-1 distance is exactly 4, and the optimal
critic rises with slope exactly 1 from the generator's mode to the data's. The
interpolates fill the gap between the two modes, which is where the penalty acts.

Run it as a script (`python examples/gradient_penalty_1d.py [--quick] [--out DIR]`) or open
it as a notebook (Jupytext / VS Code "percent" cells).

Figures: critic_penalty.png
"""

# %%
import argparse
import json
import os

# the critics are tiny: one BLAS thread is fastest (and fair on a shared machine)
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.gan import lab1d  # noqa: E402
from minigan.gan.lab1d_critic import train_critic_1d  # noqa: E402
from minigan.plots import plt, save_figure  # noqa: E402  (Agg, or inline in a notebook)

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="A 1-D WGAN critic with and without the penalty.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: a few hundred steps")
parser.add_argument("--out", default="runs/examples/gradient_penalty_1d", help="figure folder")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--steps", type=int, default=None, help="critic steps (default 3000)")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
steps = args.steps or (300 if args.quick else 3000)
os.makedirs(args.out, exist_ok=True)
print(f"settings: quick={args.quick} seed={args.seed} steps={steps} out={args.out}")

# %% [markdown]
# ## 1. Two critics from the same initial weights
#
# The lab's MLP critic (1 -> 32 -> 32 -> 1, LeakyReLU(0.2)), float64, Adam with the
# paper's settings (lr 1e-3 here, betas (0, 0.9)), batches of 256 from each distribution.
# The only difference: gp_weight = 0 (no constraint) or 10 (WGAN-GP's lambda).

# %%
data = lab1d.Gaussian(2.0, 0.5)
fake = lab1d.Gaussian(-2.0, 0.5)
W1 = 4.0                                  # the distance the critics estimate
grid = lab1d.make_grid(-5.0, 5.0, 401)
fits = {}


def between_modes(fit):
    """The mean |D'(x)| between the modes, -1.5 <= x <= 1.5."""
    return fit.mean_slope_between(-1.5, 1.5)


for gp_weight in (0.0, 10.0):
    D = lab1d.mlp_1d_discriminator(hidden=(32, 32), rng=backend.default_rng(args.seed))
    fits[gp_weight] = train_critic_1d(D, data, fake, gp_weight=gp_weight, steps=steps,
                                      seed=args.seed, grid=grid)
    fit = fits[gp_weight]
    print(f"gp_weight {gp_weight:>4}: {steps} steps in {fit.seconds:.1f} s; Wasserstein "
          f"estimate {fit.wasserstein[-50:].mean():.3f} (mean of the last 50 steps); "
          f"mean |D'| on the interpolates {fit.interpolate_slope[-50:].mean():.3f}, "
          f"between the modes (-1.5 <= x <= 1.5) {between_modes(fit):.3f}; W1 = {W1}")

# %% [markdown]
# ## 2. What the penalty did
#
# Top: D(x) of each critic over the densities. Bottom left: |D'(x)| on a log scale, with
# the target 1 dotted. Bottom right: the mean |D'| on each step's interpolates over
# training. Without a constraint the critic's slope keeps growing -- the "distance" it
# reports is whatever its weights have grown to. With the penalty it settles near 1
# between the modes, and its estimate is close to W1 = 4; outside the gap (no
# interpolates there) nothing asks anything of the slope.

# %%
plain, penalised = fits[0.0], fits[10.0]
fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
for ax, fit, title in ((axes[0, 0], plain, "no constraint"),
                       (axes[0, 1], penalised, "gradient penalty, lambda = 10")):
    densities = ax.twinx()
    densities.fill_between(grid, fit.p_data, alpha=0.25, color="C0", label="p_data")
    densities.fill_between(grid, fit.p_g, alpha=0.25, color="C3", label="p_g (fixed)")
    densities.set_yticks([])
    densities.set_ylabel("density (p_data, p_g)")
    ax.plot(grid, fit.d, color="k", label="critic D(x)")
    ax.set_ylabel("critic D(x)")
    ax.set_title(f"{title}: Wasserstein estimate {fit.wasserstein[-50:].mean():.2f} "
                 f"(W1 = {W1:g})", fontsize=10)
    ax.set_xlabel("x")
    ax.legend(loc="upper left", fontsize=8)
    densities.legend(loc="upper right", fontsize=8)
slopes = axes[1, 0]
for fit, label in ((plain, "no constraint"), (penalised, "gradient penalty")):
    slopes.semilogy(grid, np.abs(fit.slope) + 1e-12, label=label)
slopes.axhline(1.0, color="gray", linestyle=":", label="|D'| = 1")
for edge in (-1.5, 1.5):
    slopes.axvline(edge, color="gray", linewidth=0.5)
slopes.set_title("|D'(x)| on the grid (the gap between the modes marked)", fontsize=10)
slopes.set_xlabel("x")
slopes.legend(fontsize=8)
history = axes[1, 1]
for fit, label in ((plain, "no constraint"), (penalised, "gradient penalty")):
    history.semilogy(np.arange(1, steps + 1), fit.interpolate_slope, label=label, linewidth=0.8)
history.axhline(1.0, color="gray", linestyle=":")
history.set_title("mean |D'| on each step's interpolates", fontsize=10)
history.set_xlabel("critic step")
history.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, os.path.join(args.out, "critic_penalty.png"), dpi=110)

# %% [markdown]
# ## Numbers

# %%
results = {
    "steps": steps, "seed": args.seed, "wasserstein_1": W1,
    **{name: {"wasserstein_estimate": float(fit.wasserstein[-50:].mean()),
              "mean_slope_on_interpolates": float(fit.interpolate_slope[-50:].mean()),
              "mean_slope_between_modes": between_modes(fit),
              "max_slope_on_grid": float(np.abs(fit.slope).max()),
              "seconds": round(fit.seconds, 1)}
       for name, fit in (("no_constraint", plain), ("gradient_penalty", penalised))},
}
with open(os.path.join(args.out, "results.json"), "w") as file:
    json.dump(results, file, indent=2)
print(json.dumps(results, indent=2))
