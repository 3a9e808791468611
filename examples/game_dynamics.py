# %% [markdown]
"""
# The game: gradient steps on two-player games

A GAN is a game, and gradient descent on a game is not gradient descent on one cost. This
example draws the two smallest games that show it:

1. the **bilinear game** f(x, y) = x y (x minimises, y maximises): simultaneous steps
   spiral outwards, each multiplying the distance to the equilibrium by sqrt(1 + lr^2);
   alternating steps circle;
2. the **Dirac-GAN** of Mescheder, Geiger and Nowozin ("Which Training Methods for GANs
   do actually Converge?", ICML 2018): data delta_0, generator delta_theta, discriminator
   D(x) = psi x. It is trained here with minigan's own pieces (``mg.gan.games.dirac_gan``:
   a one-weight ``Dense``, ``BCEWithLogits``, ``r1_penalty``, ``gradient_penalty``,
   ``SGD``): unregularised it spirals out (simultaneous) or circles (alternating); R1 and
   instance noise make it converge; the WGAN-GP penalty does not bring it to (0, 0);
3. the **eigenvalues** of the Jacobian at the equilibrium, ±i f'(0) = ±i/2, and where R1
   and instance noise move them;
4. why the WGAN's distance helps where the Jensen-Shannon divergence does not: two
   distributions moved apart (WGAN's Example 1).

Run it as a script (`python examples/game_dynamics.py [--quick] [--out DIR]`) or open it
as a notebook (Jupytext / VS Code "percent" cells). The page: docs/game.md.

Figures: bilinear.png, dirac_gan.png, eigenvalues.png, jsd_vs_w1.png
"""

# %%
import argparse
import os
import time

import numpy as np

from minigan.gan import games, lab1d
from minigan.plots import plt, save_figure  # (Agg, or inline in a notebook)

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(description="Gradient dynamics of two-player games.",
                                 allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK, help="CI mode: fewer steps")
parser.add_argument("--out", default="runs/examples/game_dynamics", help="figure folder")
parser.add_argument("--steps", type=int, default=None,
                    help="Dirac-GAN steps per run (default 5000; 600 with --quick)")
parser.add_argument("--lr", type=float, default=0.1, help="the step size h of both players")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
steps = args.steps or (600 if args.quick else 5000)
lr = args.lr
os.makedirs(args.out, exist_ok=True)
print(f"settings: quick={args.quick} steps={steps} lr={lr} out={args.out}")

# %% [markdown]
# ## 1. The bilinear game
#
# f(x, y) = x y. The vector field (-df/dx, df/dy) = (-y, x) turns around (0, 0): it
# never points inwards. A simultaneous step (x, y) <- (x - lr y, y + lr x) moves along
# the tangent, so it always lands outside the circle it started on:
# |(x', y')|^2 = (1 + lr^2) |(x, y)|^2. An alternating step (y uses the new x) conserves
# x^2 + y^2 - lr x y instead: a closed orbit, but still no convergence.

# %%
bilinear_steps = 60 if args.quick else 120
bilinear_lr = 0.2
sim = games.bilinear_game("simultaneous", bilinear_steps, bilinear_lr, start=(1.0, 0.0))
alt = games.bilinear_game("alternating", bilinear_steps, bilinear_lr, start=(1.0, 0.0))
growth = np.hypot(*sim[-1]) / np.hypot(*sim[0])
print(f"bilinear game, lr {bilinear_lr}, {bilinear_steps} steps from (1, 0): simultaneous "
      f"|.| 1 -> {np.hypot(*sim[-1]):.3f} (sqrt(1 + lr^2)^{bilinear_steps} = "
      f"{(1 + bilinear_lr ** 2) ** (bilinear_steps / 2):.3f}); alternating |.| stays in "
      f"[{np.hypot(*alt.T).min():.3f}, {np.hypot(*alt.T).max():.3f}]")

fig, ax = plt.subplots(figsize=(6.2, 6))
grid = np.linspace(-11.0, 11.0, 23)
gx, gy = np.meshgrid(grid, grid)
ax.quiver(gx, gy, -gy, gx, color="0.75", angles="xy")
ax.plot(*sim.T, ".-", color="C3", markersize=3, label=f"simultaneous (x{growth:.1f})")
ax.plot(*alt.T, ".-", color="C0", markersize=3, label="alternating (closed orbit)")
ax.plot(0, 0, "k*", markersize=12, label="equilibrium (0, 0)")
ax.set_xlabel("x (minimises xy)")
ax.set_ylabel("y (maximises xy)")
ax.set_title(f"f(x, y) = xy: {bilinear_steps} gradient steps of size {bilinear_lr}")
ax.set_aspect("equal")
ax.legend(loc="lower left", fontsize=8)
fig.tight_layout()
save_figure(fig, os.path.join(args.out, "bilinear.png"), dpi=110)

# %% [markdown]
# ## 2. The Dirac-GAN
#
# L(theta, psi) = f(theta psi) + f(0) with f(t) = -log(1 + e^-t); G minimises, D
# maximises; the only equilibrium is (0, 0): G on the data, D constant. Each run below
# starts at (1, 1) with the same step size for both players. The grey arrows are the
# closed-form field v = (-psi f'(theta psi), theta f'(theta psi)).

# %%
runs = {
    "simultaneous": dict(method="simultaneous"),
    "alternating": dict(method="alternating"),
    "simultaneous + R1 (gamma 0.3)": dict(method="simultaneous", r1=0.3),
    "simultaneous + instance noise (sigma 0.7)": dict(method="simultaneous",
                                                      instance_noise=0.7, noise_samples=64),
    "non-saturating G, simultaneous": dict(method="simultaneous", loss="non-saturating"),
    "WGAN + WGAN-GP (lambda 1), simultaneous": dict(method="simultaneous", loss="wgan",
                                                    gp=1.0),
}
paths = {}
for name, options in runs.items():
    start_time = time.perf_counter()
    paths[name] = games.dirac_gan(steps=steps, lr=lr, start=(1.0, 1.0), **options)
    end = paths[name][-1]
    print(f"Dirac-GAN {name:<42} {steps} steps: |(theta, psi)| {np.sqrt(2):.3f} -> "
          f"{np.hypot(*end):.4g}, end ({end[0]:+.3f}, {end[1]:+.3f}) "
          f"[{time.perf_counter() - start_time:.1f} s]")

fig, axes = plt.subplots(2, 3, figsize=(14, 9))
lim = 4.0
grid = np.linspace(-lim, lim, 15)
gt, gp = np.meshgrid(grid, grid)
field = games.dirac_vector_field(gt, gp)
for ax, (name, path) in zip(axes.flat, paths.items()):
    ax.quiver(gt, gp, field[0], field[1], color="0.8", angles="xy")
    ax.plot(path[:, 0], path[:, 1], color="C3", linewidth=0.8)
    ax.plot(*path[0], "o", color="C2", label="start (1, 1)")
    ax.plot(*path[-1], "s", color="C3", label=f"after {steps} steps")
    ax.plot(0, 0, "k*", markersize=11, label="equilibrium")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(f"{name}\n|.| {np.sqrt(2):.2f} -> {np.hypot(*path[-1]):.3g}", fontsize=10)
    ax.set_xlabel("theta (the generator)")
    ax.set_ylabel("psi (the discriminator)")
axes[0, 0].legend(loc="lower left", fontsize=8)
fig.suptitle(f"The Dirac-GAN (Mescheder et al. 2018), gradient steps of size {lr} from "
             "(1, 1); arrows: the unregularised field")
fig.tight_layout()
save_figure(fig, os.path.join(args.out, "dirac_gan.png"), dpi=110)

# %% [markdown]
# ## 3. The eigenvalues at the equilibrium
#
# Unregularised, the Jacobian of v at (0, 0) is [[0, -f'(0)], [f'(0), 0]] with
# f'(0) = 1/2: eigenvalues ±i/2, purely imaginary. The continuous flow circles;
# a simultaneous step multiplies the distance by |1 + lr lambda| = sqrt(1 + lr^2/4) > 1
# for every lr. R1 adds -gamma to the psi-psi entry, instance noise 2 sigma^2 f''(0)
# = -sigma^2/2: both move the eigenvalues into the left half-plane (locally convergent
# for small enough steps).

# %%
gammas = np.linspace(0.0, 1.5, 31)
sigmas = np.linspace(0.0, 1.6, 33)
eig_r1 = np.array([games.dirac_eigenvalues(r1=g) for g in gammas])
eig_noise = np.array([games.dirac_eigenvalues(instance_noise=s) for s in sigmas])
print("eigenvalues at (0, 0): unregularised", np.round(games.dirac_eigenvalues(), 4),
      "| R1 gamma 0.3", np.round(games.dirac_eigenvalues(r1=0.3), 4),
      "| instance noise 0.7", np.round(games.dirac_eigenvalues(instance_noise=0.7), 4),
      f"| one simultaneous step grows |.| by {games.step_growth(lr):.6f} near (0, 0)")

fig, ax = plt.subplots(figsize=(7, 5.5))
for eig, color, label in ((eig_r1, "C0", "R1, gamma 0 -> 1.5"),
                          (eig_noise, "C1", "instance noise, sigma 0 -> 1.6")):
    ax.scatter(eig.real.ravel(), eig.imag.ravel(), s=12, color=color, label=label)
ax.scatter([0, 0], [0.5, -0.5], s=80, marker="*", color="k", zorder=3,
           label="unregularised: ±i f'(0) = ±i/2")
ax.axvline(0, color="0.6", linewidth=0.8)
ax.axhline(0, color="0.6", linewidth=0.8)
ax.set_xlabel("real part (< 0: locally convergent)")
ax.set_ylabel("imaginary part (rotation)")
ax.set_title("Eigenvalues of the Dirac-GAN's Jacobian at the equilibrium")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, os.path.join(args.out, "eigenvalues.png"), dpi=110)

# %% [markdown]
# ## 4. Jensen-Shannon versus Wasserstein-1 as two distributions move apart
#
# Arjovsky, Chintala and Bottou (2017), Example 1: P_0 and P_theta are the same narrow
# distribution shifted by theta. Once they stop overlapping the JSD is stuck at log 2 --
# its gradient with respect to theta is zero -- while W1 = |theta| keeps growing
# linearly, with gradient ±1 everywhere. With the standard GAN's optimal D, the
# generator sees (a multiple of) the JSD; with a Lipschitz critic, W1.

# %%
x = lab1d.make_grid(-12.0, 12.0, 4801)
shifts = np.linspace(0.0, 8.0, 81)
widths = (0.1, 0.5, 1.0)
fig, ax = plt.subplots(figsize=(7.5, 5))
for std, color in zip(widths, ("C3", "C1", "C0")):
    p0 = lab1d.Gaussian(0.0, std).pdf(x)
    jsd = [lab1d.jensen_shannon(p0, lab1d.Gaussian(s, std).pdf(x), x) for s in shifts]
    ax.plot(shifts, jsd, color=color, label=f"JSD, std {std}")
ax.plot(shifts, shifts / 8 * np.log(2), "k--", label="W1 = |theta| (scaled by log 2 / 8)")
ax.axhline(np.log(2), color="0.5", linestyle=":", label="log 2 (disjoint supports)")
ax.set_xlabel("theta: the shift between P_0 and P_theta")
ax.set_ylabel("divergence (nats)")
ax.set_title("JSD saturates at log 2; W1 grows with the distance")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, os.path.join(args.out, "jsd_vs_w1.png"), dpi=110)
print(f"JSD at shift 2 for std 0.1: {lab1d.jensen_shannon(lab1d.Gaussian(0, 0.1).pdf(x), lab1d.Gaussian(2, 0.1).pdf(x), x):.6f} (log 2 = {np.log(2):.6f}); W1 = 2")  # noqa: E501
print(f"figures written to {args.out}")
