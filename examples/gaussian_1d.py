# %% [markdown]
"""
# A 1-D GAN lab: the GAN math, measured on real runs

In one dimension every quantity of Goodfellow et al. (2014) can be computed on a grid
and compared with what a real minigan run does:

* the **value function** V(D, G) = E_data[log D(x)] + E_z[log(1 - D(G(z)))];
* the **optimal discriminator** D*(x) = p_data(x) / (p_data(x) + p_g(x)) for a fixed G;
* **V(D*, G) = -log 4 + 2 JSD(p_data || p_g)**: the game's optimum -log 4 ~ -1.386 is
  reached exactly when p_g = p_data (then D* = 1/2 everywhere);
* **mode collapse** on a two-mode mixture, and the minibatch-standard-deviation cure,
  measured as the fraction of generated samples within 2 std of each mode.

The generator's density p_g is a Gaussian kernel density estimate (Silverman's bandwidth)
of a few thousand of its samples. Every run uses minigan's own `Trainer`.

Run it as a script (`python examples/gaussian_1d.py [--quick] [--out DIR] [--seed S]`) or
open it as a notebook (Jupytext / VS Code "percent" cells). `--quick` is the CI mode
(a few hundred steps, no claims); the full run takes a few minutes on one core.

Figures: gaussian_training.png, value_and_jsd.png, d_star.png, mixture_collapse.png,
mixture_cured.png
"""

# %%
import argparse
import math
import os
import time

# the lab's networks are tiny: one BLAS thread is fastest (and fair on a shared machine)
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.gan import lab1d  # noqa: E402
from minigan.gan.lab1d import V_OPTIMUM, Gaussian, GaussianMixture  # noqa: E402
from minigan.gan.lab1d_train import train_discriminator_1d, train_gan_1d  # noqa: E402
from minigan.plots import plt, save_figure  # noqa: E402  (Agg, or inline in a notebook)

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="The 1-D GAN lab: theory against real runs.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: short runs (<= 20 s)")
parser.add_argument("--out", default="runs/examples/gaussian_1d", help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
os.makedirs(args.out, exist_ok=True)
started = time.perf_counter()

if args.quick:
    GAUSS_STEPS, GAUSS_EVERY, D_STEPS, MIX_STEPS, MIX_EVERY, MIX_SEEDS, N_EVAL = \
        300, 25, 600, 600, 150, 1, 1000
else:
    GAUSS_STEPS, GAUSS_EVERY, D_STEPS, MIX_STEPS, MIX_EVERY, MIX_SEEDS, N_EVAL = \
        1500, 25, 4000, 3000, 100, 6, 4000
print(f"settings: quick={args.quick} seed={args.seed} out={args.out}")


def rng(seed):
    return backend.default_rng(seed)


# %% [markdown]
# ## 1. A GAN learns one Gaussian
#
# Data: N(2, 0.5^2). G: z ~ N(0, I_4) -> Dense(32) -> LeakyReLU -> Dense(32) -> LeakyReLU
# -> Dense(1); D: x -> 32 -> 32 -> logit. Non-saturating loss, Adam (lr 1e-3, betas
# (0.5, 0.999)), batch 128, three D steps per G step (k = 3 in Goodfellow et al.'s
# Algorithm 1: D stays close to D*), **no label smoothing** (real_label=1), so that D's
# target is exactly D*. We take a snapshot every few steps: D(x) on a grid, the KDE of p_g,
# D* for that p_g, V(D, G) on 4000 fresh real and fake samples, and JSD(p_data || p_g).

# %%
gauss = Gaussian(2.0, 0.5)
G = lab1d.mlp_1d_generator(latent_dim=4, hidden=(32, 32), rng=rng(args.seed + 1))
D = lab1d.mlp_1d_discriminator(hidden=(32, 32), rng=rng(args.seed + 2))
grid = lab1d.make_grid(-3.0, 5.0, 641)
early = range(0, 200, 5) if not args.quick else []  # the interesting part is quick: look closely
run = train_gan_1d(gauss, G, D, steps=GAUSS_STEPS, batch_size=128, lr_d=1e-3, lr_g=1e-3,
                   d_steps=3, seed=args.seed, grid=grid, n_eval=N_EVAL,
                   snapshot_steps=sorted({*early, *range(0, GAUSS_STEPS + 1, GAUSS_EVERY)}))
# the estimator's own floor: JSD between p_data and a KDE of N_EVAL samples of p_data itself
floor = lab1d.jensen_shannon(gauss.pdf(grid), lab1d.kde_density(gauss.sample(N_EVAL, rng(7)),
                                                                  grid), grid)
final = run.final
print(f"[gaussian] {GAUSS_STEPS} steps in {run.seconds:.1f} s: JSD {run.snapshots[0].jsd:.3f} "
      f"-> {final.jsd:.4f} nats (max log 2 = 0.693); V(D, G) = {final.value:.4f} vs "
      f"-log 4 = {V_OPTIMUM:.4f}; D(x) on the data's support: "
      f"{final.d[gauss.pdf(grid) > 0.05].min():.3f} .. {final.d[gauss.pdf(grid) > 0.05].max():.3f}"
      f"\n[gaussian] estimator floor: JSD(p_data, KDE of {N_EVAL} samples of p_data) = "
      f"{floor:.4f}")


# %%
def density_panel(ax, x, p_data, snap, title, show_d=True, d_label="D(x)"):
    """p_data (grey), p_g (blue; histogram of the samples behind), D and D* (right axis)."""
    ax.fill_between(x, p_data, color="0.75", label="p_data")
    ax.hist(snap.samples, bins=80, range=(x[0], x[-1]), density=True, color="tab:blue",
            alpha=0.2)
    ax.plot(x, snap.p_g, color="tab:blue", lw=1.6, label="p_g (KDE)")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0, 1.25 * max(p_data.max(), snap.p_g.max()))
    ax.set_title(title, fontsize=9)
    ax.set_ylabel("density", fontsize=8)
    ax.tick_params(labelsize=7)
    if not show_d:
        return ax, None
    right = ax.twinx()
    right.plot(x, snap.d, color="tab:red", lw=1.4, label=d_label)
    # D* only where samples land (p_data + p_g >= 1% of its peak): elsewhere it is a ratio
    # of two vanishing tails that no finite sample can pin down
    shown = np.where(lab1d.relevant_region(p_data, snap.p_g), snap.d_star, np.nan)
    right.plot(x, shown, color="tab:red", lw=1.1, ls="--", label="D* = p/(p+p_g)")
    right.axhline(0.5, color="tab:red", lw=0.5, alpha=0.4)
    right.set_ylim(-0.02, 1.02)
    right.set_ylabel("D(x), D*(x)", fontsize=8, color="tab:red")
    right.tick_params(labelsize=7, colors="tab:red")
    return ax, right


picks = [0, 10, 20, 40, 100, GAUSS_STEPS]
taken = set()  # the snapshot nearest each pick, each snapshot once (--quick has fewer)
for t in picks:
    taken.add(min(set(range(len(run.snapshots))) - taken,
                  key=lambda i: abs(run.snapshots[i].step - t)))
chosen = [run.snapshots[i] for i in sorted(taken)]
fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
for ax, snap in zip(axes.flat, chosen):
    left, right = density_panel(
        ax, run.x, run.p_data, snap,
        f"step {snap.step}: JSD {snap.jsd:.3f}, V(D,G) {snap.value:.3f}")
handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
labels = left.get_legend_handles_labels()[1] + right.get_legend_handles_labels()[1]
fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=9)
fig.suptitle("A GAN learns N(2, 0.5^2): p_g moves onto p_data and D(x), D*(x) flatten to 1/2"
             " (D* shown where p_data + p_g >= 1% of its peak)",
             fontsize=11)
fig.tight_layout(rect=(0, 0.05, 1, 0.96))
save_figure(fig, os.path.join(args.out, "gaussian_training.png"), dpi=110)

# %% [markdown]
# ## 2. The value function and the Jensen-Shannon divergence
#
# For the current D, V(D, G) is estimated on samples; for the current G, the best any
# D could do is V(D*, G) = -log 4 + 2 JSD(p_data || p_g) (computed from the densities).
# The real D never beats D* (up to sampling noise), and both approach -log 4 as the
# JSD goes to 0.

# %%
steps_, values = run.series("value")
_, jsds = run.series("jsd")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
ax1.plot(steps_, values, color="tab:red", lw=1.2, label="V(D, G): the trained D, on samples")
ax1.plot(steps_, V_OPTIMUM + 2 * jsds, color="k", lw=1.2, ls="--",
         label="V(D*, G) = -log 4 + 2 JSD (from densities)")
ax1.axhline(V_OPTIMUM, color="tab:green", lw=1.2, label="-log 4 (p_g = p_data)")
ax1.set_xlabel("generator step")
ax1.set_ylabel("value")
ax1.set_ylim(V_OPTIMUM - 0.3, 0.05)
inset = ax1.inset_axes([0.35, 0.3, 0.6, 0.35])
inset.plot(steps_, values, color="tab:red", lw=1)
inset.plot(steps_, V_OPTIMUM + 2 * jsds, color="k", lw=1, ls="--")
inset.axhline(V_OPTIMUM, color="tab:green", lw=1)
inset.set_ylim(V_OPTIMUM - 0.01, V_OPTIMUM + 0.03)
inset.set_xlim(100, steps_[-1])
inset.tick_params(labelsize=7)
inset.set_title("zoom: steps >= 100", fontsize=7)
ax1.legend(fontsize=8, loc="upper right")
ax1.grid(alpha=0.3)
ax1.set_title("value function (D maximises it, G minimises it)", fontsize=10)
ax2.semilogy(steps_, np.maximum(jsds, 1e-5), color="k", lw=1.2)
ax2.axhline(math.log(2), color="0.5", lw=0.8, ls=":", label="log 2 (disjoint supports)")
ax2.axhline(floor, color="tab:blue", lw=0.8, ls="--",
            label=f"estimator floor (KDE of {N_EVAL} true samples)")
ax2.set_xlabel("generator step")
ax2.set_ylabel("JSD(p_data || p_g) [nats]")
ax2.legend(fontsize=8)
ax2.grid(alpha=0.3, which="both")
ax2.set_title("Jensen-Shannon divergence, by integration on the grid", fontsize=10)
fig.tight_layout()
save_figure(fig, os.path.join(args.out, "value_and_jsd.png"), dpi=110)
late = run.snapshots[len(run.snapshots) // 2:]
print(f"[value] last half of the run: mean V(D, G) = {np.mean([s.value for s in late]):.4f}, "
      f"mean V(D*, G) = {np.mean([V_OPTIMUM + 2 * s.jsd for s in late]):.4f}, "
      f"-log 4 = {V_OPTIMUM:.4f}")

# %% [markdown]
# ## 3. D trained alone against a fixed G approaches D*
#
# The inner step of the game: freeze G and maximise V over D. Left: p_g is a fixed
# Gaussian N(1.5, 0.7^2) (exact density) against data N(0, 1): D* is not monotone -- it
# rises again in both tails, where the wider data density wins. Right: G is the frozen,
# collapsed generator of section 4 (its samples fixed, p_g by KDE) against the mixture:
# D* = 1 on the mode G misses, about 1/3 on the mode it sits on. D (32 -> 32) is trained
# with Adam on fresh batches of 512 while its learning rate decays from 2e-3 to 2e-5.
# The error is measured where p_data + p_g is at least 1% of its peak.

# %%
mixture = GaussianMixture([-3.0, 3.0], [0.5, 0.5])
fit_gauss = train_discriminator_1d(
    lab1d.mlp_1d_discriminator(hidden=(32, 32), rng=rng(args.seed + 3)), Gaussian(0.0, 1.0),
    Gaussian(1.5, 0.7), steps=D_STEPS, batch_size=512, seed=args.seed,
    grid=lab1d.make_grid(-4.5, 4.5, 601))
print(f"[D*] fixed Gaussian G, {D_STEPS} D steps in {fit_gauss.seconds:.1f} s: "
      f"max |D - D*| = {fit_gauss.max_error:.4f} where p_data + p_g >= 1% of its peak, "
      f"density-weighted mean |D - D*| = {fit_gauss.weighted_error:.4f}")


# %% [markdown]
# ## 4. Mode collapse on two modes, and a cure
#
# Data: (1/2) N(-3, 0.5^2) + (1/2) N(3, 0.5^2). A deliberately small G (latent_dim 1,
# one hidden layer of 16) and a plain D, non-saturating loss, lr 2e-3, batch 128.
# Coverage of a mode = fraction of G's samples within 2 std of it; a perfect G scores
# 0.5 x 0.954 = 0.477 on each. The cure changes one thing: D gets a
# `MinibatchStdDev()` layer after its first hidden layer (the batch's spread of those
# features as one more feature), so a batch of look-alike samples is easy to call fake
# and the gradient through that feature pushes G's samples apart. p_g is a KDE with a
# fixed bandwidth 0.1 here: Silverman's rule assumes one bump and would blur two.

# %%
def mixture_run(seed, cure, steps=MIX_STEPS, every=MIX_EVERY):
    G = lab1d.mlp_1d_generator(latent_dim=1, hidden=(16,), rng=rng(100 + seed))
    D = lab1d.mlp_1d_discriminator(hidden=(32, 32), minibatch_stddev=cure, rng=rng(200 + seed))
    return train_gan_1d(mixture, G, D, steps=steps, batch_size=128, lr_d=2e-3, lr_g=2e-3,
                        snapshot_steps=range(0, steps + 1, every), seed=seed,
                        grid=lab1d.make_grid(-6.0, 6.0, 601), n_eval=N_EVAL, bandwidth=0.1)


IDEAL = 0.5 * math.erf(2 / math.sqrt(2))
runs = {False: [], True: []}
for cure in (False, True):
    for seed in range(args.seed, args.seed + MIX_SEEDS):
        r = mixture_run(seed, cure)
        runs[cure].append(r)
        print(f"[mixture] {'cure (minibatch std)' if cure else 'plain D':22s} seed {seed}: "
              f"coverage {r.final.coverage[0]:.3f} / {r.final.coverage[1]:.3f} "
              f"(ideal {IDEAL:.3f} each), JSD {r.final.jsd:.3f}, {r.seconds:.1f} s")


# %%
def mixture_figure(run_list, path, title):
    shown = run_list[0]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.3),
                                        gridspec_kw={"width_ratios": [1.2, 1.2, 1]})
    ax1.fill_between(shown.x, shown.p_data, color="0.8", label="p_data")
    picks = shown.snapshots[:: max(1, len(shown.snapshots) // 6)][1:]
    if picks[-1] is not shown.final:
        picks.append(shown.final)
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(picks)))
    for snap, colour in zip(picks, colours):
        ax1.plot(shown.x, snap.p_g, color=colour, lw=1.2, label=f"p_g, step {snap.step}")
    ax1.set_xlim(shown.x[0], shown.x[-1])
    ax1.set_ylim(0, 1.05 * max(max(s.p_g.max() for s in picks), shown.p_data.max()))
    ax1.set_ylabel("density")
    ax1.legend(fontsize=7, loc="upper right", ncol=1, framealpha=0.6)
    ax1.set_title(f"p_g over training (seed {args.seed})", fontsize=10)
    left, right = density_panel(ax2, shown.x, shown.p_data, shown.final,
                                f"step {shown.final.step}: JSD {shown.final.jsd:.3f}",
                                d_label="D(x) among G's samples")
    right.legend(fontsize=7, loc="upper center")
    for run_ in run_list:
        steps_, cov = run_.series("coverage")
        alpha = 1.0 if run_ is shown else 0.35
        ax3.plot(steps_, cov[:, 0], color="tab:purple", lw=1.3, alpha=alpha)
        ax3.plot(steps_, cov[:, 1], color="tab:orange", lw=1.3, alpha=alpha)
    ax3.plot([], [], color="tab:purple", label="mode at -3")
    ax3.plot([], [], color="tab:orange", label="mode at +3")
    ax3.axhline(IDEAL, color="k", ls="--", lw=0.8, label=f"ideal {IDEAL:.3f}")
    ax3.set_ylim(-0.02, 1.02)
    ax3.set_xlabel("generator step")
    ax3.set_ylabel("fraction of G's samples within 2 std")
    ax3.set_title(f"mode coverage ({len(run_list)} seeds; seed {args.seed} bold)", fontsize=10)
    ax3.legend(fontsize=8)
    ax3.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    save_figure(fig, path, dpi=110)


def covered(r, threshold=0.25):
    return bool(min(r.final.coverage) >= threshold)


for cure, name, label in ((False, "mixture_collapse.png", "plain D"),
                          (True, "mixture_cured.png", "D with MinibatchStdDev")):
    n_ok = sum(covered(r) for r in runs[cure])
    mixture_figure(runs[cure], os.path.join(args.out, name),
                   f"Two modes, small G, {label}: {n_ok} of {len(runs[cure])} runs cover both "
                   f"modes (each >= 0.25)")
    print(f"[mixture] {label}: {n_ok}/{len(runs[cure])} runs cover both modes; min coverage "
          f"per run: {', '.join(f'{min(r.final.coverage):.3f}' for r in runs[cure])}")

# %% [markdown]
# Back to section 3's right panel: freeze the collapsed generator (seed `--seed`, plain
# D) and train a fresh D against it.

# %%
collapsed = runs[False][0].trainer.G
fit_collapsed = train_discriminator_1d(
    lab1d.mlp_1d_discriminator(hidden=(32, 32), rng=rng(args.seed + 4)), mixture, collapsed,
    steps=D_STEPS, batch_size=512, seed=args.seed, grid=lab1d.make_grid(-6.0, 6.0, 601))
print(f"[D*] frozen generator of the plain-D mixture run, {D_STEPS} D steps in "
      f"{fit_collapsed.seconds:.1f} s: max |D - D*| = {fit_collapsed.max_error:.4f}, "
      f"density-weighted mean {fit_collapsed.weighted_error:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
for ax, fit, title in ((axes[0], fit_gauss, "data N(0, 1), fixed G = N(1.5, 0.7^2)"),
                       (axes[1], fit_collapsed, "mixture data, frozen collapsed G (KDE)")):
    ax.fill_between(fit.x, fit.p_data, color="0.78", label="p_data")
    ax.plot(fit.x, fit.p_g, color="tab:blue", lw=1.5, label="p_g (fixed)")
    ax.set_xlim(fit.x[0], fit.x[-1])
    right = ax.twinx()
    right.fill_between(fit.x, -0.02, 1.02, where=~fit.region, color="0.95", zorder=-1)
    right.plot(fit.x, fit.d_star, color="k", lw=2.2, ls="--", label="D* = p_data/(p_data+p_g)")
    right.plot(fit.x, fit.d, color="tab:red", lw=1.3, label="D trained to convergence")
    right.set_ylim(-0.02, 1.02)
    right.set_ylabel("D(x), D*(x)", color="tab:red")
    right.tick_params(colors="tab:red", labelsize=8)
    ax.set_ylabel("density")
    ax.set_title(f"{title}\nmax |D - D*| = {fit.max_error:.3f} where p_data + p_g >= 1% of "
                 f"its peak (unshaded)\nmean |D - D*| weighted by (p_data + p_g) / 2 = "
                 f"{fit.weighted_error:.4f}", fontsize=9)
    ax.set_ylim(0, 1.6 * max(fit.p_data.max(), fit.p_g.max()))
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    labels = ax.get_legend_handles_labels()[1] + right.get_legend_handles_labels()[1]
    right.legend(handles, labels, fontsize=7,  # on the twin axis, which is drawn on top
                 loc="center left" if fit is fit_gauss else "center right")
fig.suptitle("The inner maximisation: D trained against a fixed G converges to D*", fontsize=11)
fig.tight_layout(rect=(0, 0, 1, 0.95))
save_figure(fig, os.path.join(args.out, "d_star.png"), dpi=110)

# %% [markdown]
# ## Summary

# %%
plain_min = [min(r.final.coverage) for r in runs[False]]
cured_min = [min(r.final.coverage) for r in runs[True]]
print("\nsummary")
print(f"  single Gaussian: final JSD {final.jsd:.4f} (median over the second half of the "
      f"run {np.median([s.jsd for s in late]):.4f}); final V(D, G) {final.value:.4f} vs "
      f"-log 4 = {V_OPTIMUM:.4f} (difference {final.value - V_OPTIMUM:+.4f})")
print(f"  D vs D*: max |D - D*| = {fit_gauss.max_error:.4f} (fixed Gaussian G), "
      f"{fit_collapsed.max_error:.4f} (frozen collapsed G: D* jumps where G's samples end); "
      f"density-weighted {fit_gauss.weighted_error:.4f} / {fit_collapsed.weighted_error:.4f}")
print(f"  JSD estimator floor (KDE of {N_EVAL} true samples): {floor:.4f}")
print(f"  mode coverage (min over the two modes, final step): plain D "
      f"{np.mean(plain_min):.3f} mean over {len(plain_min)} seeds "
      f"({sum(covered(r) for r in runs[False])} cover both); MinibatchStdDev "
      f"{np.mean(cured_min):.3f} ({sum(covered(r) for r in runs[True])} cover both)")
print(f"  wall time {time.perf_counter() - started:.1f} s; figures in {args.out}")
