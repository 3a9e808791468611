# %% [markdown]
"""
# Saturating vs non-saturating generator loss, measured

Goodfellow et al. (2014) wrote the generator's objective as the minimax game's
``min_G log(1 - D(G(z)))`` and then advised against using it: early in training D rejects
the fakes easily, D(G(z)) -> 0, and log(1 - D) is flat there -- the gradient *saturates*.
The fix, ``min_G -log D(G(z))`` ("non-saturating"), has the same fixed point but its
gradient is largest exactly when G is losing. With D(G(z)) = sigma(l), l the logit:

    minimax:         |d/dD log(1 - D)| = 1/(1 - D)      d/dl log(1 - sigma(l)) = -sigma(l)
    non-saturating:  |d/dD (-log D)|   = 1/D            d/dl (-log sigma(l))   = sigma(l) - 1

At the logit (what D.backward receives) the minimax gradient is -D(G(z)) -> 0, the
non-saturating one -> -1. Here we measure what actually reaches the generator -- the
gradient image dLoss/dG(z) and dLoss/dθ_G -- from the same weights under both losses
while D alone is trained and D(G(z)) falls, then run both losses for a few hundred steps.

Run it as a script (``python examples/saturating_vs_nonsaturating.py [--quick]``) or open
it as a notebook (Jupytext / VS Code "percent" cells).

Figures: gradient_vs_d.png, short_runs.png
"""

# %%
import argparse
import os
import time

import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

import minigan as mg
from minigan.inspect import generator_gradient
from minigan.plots import image_grid, plt, save_figure

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="Saturating vs non-saturating G loss.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: tiny settings")
parser.add_argument("--out", default="runs/examples/saturating_vs_nonsaturating",
                    help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--d-alone", type=int, default=100,
                    help="discriminator-only steps (G fixed) in the measurement")
parser.add_argument("--measure-batch", type=int, default=64, help="z batch measured")
parser.add_argument("--run-steps", type=int, default=400, help="steps of each short run")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
if args.quick:
    args.d_alone, args.measure_batch, args.run_steps, args.batch_size = 6, 16, 30, 32
os.makedirs(args.out, exist_ok=True)
print(f"settings: {vars(args)}")
LOSSES = ("minimax", "non-saturating")
COLORS = {"minimax": "tab:red", "non-saturating": "tab:blue"}

# %% [markdown]
# ## 1. The analytic gradients at a few values of D(G(z))

# %%
print(f"{'D(G(z))':>9} | {'1/(1-D)':>9} {'1/D':>9} | {'|-sigma|':>9} {'|sigma-1|':>9}")
for d in (0.5, 0.1, 0.01, 0.001, 1e-4):
    print(f"{d:>9g} | {1 / (1 - d):>9.4g} {1 / d:>9.4g} | {d:>9.4g} {1 - d:>9.4g}")

# %% [markdown]
# ## 2. Measured: the gradient reaching G while D pulls ahead
#
# The MNIST DCGAN at its initial weights. G stays fixed; D alone takes Adam steps
# (lr 2e-4, the trainer's) on real digits vs G's fakes, so D(G(z)) falls. At each
# measurement point ``generator_gradient`` runs the G step's backward pass for a fixed z
# batch under each loss -- D frozen, training mode, nothing changed -- and reports
# ||dL/dG(z)|| (the gradient image) and ||dL/dθ_G|| (all of G's weight gradients).

# %%
images, _ = mg.data.load_mnist("train", path=args.data, download=False,
                               embedded_fallback=True)
batches = mg.data.Batches(images, None, batch_size=args.measure_batch, seed=args.seed)
rng = mg.backend.default_rng(args.seed)
G = mg.gan.dcgan_generator(latent_dim=100, rng=rng)
D = mg.gan.dcgan_discriminator(rng=rng)
bce = mg.gan.get_objective("non-saturating")  # its D loss: BCE(real, 1) + BCE(fake, 0)
opt_d = mg.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
z_measure = mg.backend.default_rng(args.seed + 100).standard_normal(
    (args.measure_batch, 100), dtype="float32")
noise = mg.backend.default_rng(args.seed + 200)
schedule = sorted({0, 1, 2, 3, 4, 6, 8, 11, 15, 20, 27, 36, 48, 64, 85, 100, 130, 170,
                   args.d_alone} & set(range(args.d_alone + 1)))
measured = []
started = time.time()
step, batch_iter = 0, iter(batches)
while True:
    if step in schedule:
        point = {"d_steps": step}
        for loss in LOSSES:
            point[loss] = generator_gradient(G, D, z_measure, loss)
        point["d_mean"] = float(point["minimax"]["d_fake"].mean())
        measured.append(point)
        print(f"D steps {step:4d}: mean D(G(z)) {point['d_mean']:.2e}   ||dL/dG(z)|| "
              f"minimax {point['minimax']['grad_image_norm']:.3e}  non-sat "
              f"{point['non-saturating']['grad_image_norm']:.3e}   ||dL/dθ_G|| minimax "
              f"{point['minimax']['grad_theta_norm']:.3e}  non-sat "
              f"{point['non-saturating']['grad_theta_norm']:.3e}  "
              f"({time.time() - started:.0f} s)", flush=True)
    if step == args.d_alone:
        break
    try:
        x, _ = next(batch_iter)
    except StopIteration:
        batch_iter = iter(batches)
        x, _ = next(batch_iter)
    fake = G.forward(noise.standard_normal((len(x), 100), dtype="float32"))
    D.zero_grad()  # the D step, written out: real pass, then fake pass, then Adam
    _, grad = bce.d_real(D.forward(x), 1.0)
    D.backward(grad, need_input_grad=False)
    _, grad = bce.d_fake(D.forward(fake), 0.0)
    D.backward(grad, need_input_grad=False)
    opt_d.step()
    step += 1

# %% [markdown]
# The table the docs quote: the measurement point closest to D(G(z)) = 0.1, 0.01, 0.001
# (mean over the z batch), the norms under each loss, and their ratio.

# %%
print(f"\n{'target':>7} {'D(G(z))':>9} {'D steps':>7} | {'||dL/dG(z)||':>27} | "
      f"{'||dL/dθ_G||':>27} | {'D/(1-D)':>8}")
print(f"{'':>7} {'mean':>9} {'':>7} | {'minimax':>9} {'non-sat':>9} {'ratio':>7} | "
      f"{'minimax':>9} {'non-sat':>9} {'ratio':>7} |")
for target in (0.5, 0.1, 0.01, 0.001):
    p = min(measured, key=lambda q: abs(np.log(q["d_mean"] / target)))
    if not target / 3 < p["d_mean"] < 3 * target:
        print(f"{target:>7g}  not reached (the lowest mean D(G(z)) measured is "
              f"{min(q['d_mean'] for q in measured):.2e}; train D alone longer: --d-alone)")
        continue
    mm, ns = p["minimax"], p["non-saturating"]
    print(f"{target:>7g} {p['d_mean']:>9.2e} {p['d_steps']:>7d} | "
          f"{mm['grad_image_norm']:>9.2e} {ns['grad_image_norm']:>9.2e} "
          f"{mm['grad_image_norm'] / ns['grad_image_norm']:>7.1e} | "
          f"{mm['grad_theta_norm']:>9.2e} {ns['grad_theta_norm']:>9.2e} "
          f"{mm['grad_theta_norm'] / ns['grad_theta_norm']:>7.1e} | "
          f"{p['d_mean'] / (1 - p['d_mean']):>8.1e}")

# %%
def d_ticks(ax, low, high):
    """Plain-number ticks on a log x axis of D values: 1-2-5 steps over a short range,
    one per decade over a long one, and no minor labels (they overlap when reversed)."""
    subs = (1.0, 2.0, 5.0) if np.log10(high / low) < 2 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


figure, axes = plt.subplots(2, 2, figsize=(12, 9))
d_axis = np.logspace(-5, np.log10(0.999), 400)
every_d = np.concatenate([p["minimax"]["d_fake"] for p in measured])
n = args.measure_batch
# (a) probability space: |dL/dD|, analytic and per sample (chain rule back from the logit)
ax = axes[0, 0]
ax.loglog(d_axis, 1 / (1 - d_axis), color=COLORS["minimax"], label="minimax: 1/(1-D)")
ax.loglog(d_axis, 1 / d_axis, color=COLORS["non-saturating"], label="non-saturating: 1/D")
for loss in LOSSES:
    grads = np.concatenate([np.abs(p[loss]["grad_logit"]) for p in measured]) * n
    ax.scatter(every_d, grads / (every_d * (1 - every_d)), s=6, alpha=0.4,
               color=COLORS[loss], label=f"measured per sample ({loss})")
ax.set_xlabel("D(G(z))")
ax.set_ylabel("|dLoss/dD| per sample")
ax.set_title("(a) in probability space", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
# (b) logit space: what D.backward receives
ax = axes[0, 1]
logit_axis = np.linspace(-12, 4, 400)
sig = 1 / (1 + np.exp(-logit_axis))
ax.semilogy(logit_axis, sig, color=COLORS["minimax"], label="minimax: |-σ(l)|")
ax.semilogy(logit_axis, 1 - sig, color=COLORS["non-saturating"],
            label="non-saturating: |σ(l) - 1|")
every_logit = np.concatenate([p["minimax"]["logits"] for p in measured])
for loss in LOSSES:
    grads = np.concatenate([np.abs(p[loss]["grad_logit"]) for p in measured]) * n
    ax.scatter(every_logit, grads, s=6, alpha=0.4, color=COLORS[loss],
               label=f"measured N·|dL/dl| ({loss})")
ax.set_xlabel("logit l = D's output (D(G(z)) = σ(l))")
ax.set_ylabel("|dLoss/dl| per sample (×N)")
ax.set_title("(b) in logit space: the gradient that enters D.backward", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
# (c) what reaches G
ax = axes[1, 0]
d_mean = np.array([p["d_mean"] for p in measured])
for loss in LOSSES:
    ax.loglog(d_mean, [p[loss]["grad_image_norm"] for p in measured], "o-",
              color=COLORS[loss], label=f"||dL/dG(z)|| {loss}")
    ax.loglog(d_mean, [p[loss]["grad_theta_norm"] for p in measured], "s--",
              color=COLORS[loss], alpha=0.7, label=f"||dL/dθ_G|| {loss}")
ax.invert_xaxis()
d_ticks(ax, d_mean.min(), d_mean.max())
ax.set_xlabel("mean D(G(z)) (falls as D is trained alone →)")
ax.set_ylabel("gradient norm")
ax.set_title("(c) measured: the gradient reaching G (DCGAN, same weights)", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
# (d) the ratio minimax / non-saturating against its prediction
ax = axes[1, 1]
for key, marker, label in [("grad_image_norm", "o", "||dL/dG(z)||"),
                           ("grad_theta_norm", "s", "||dL/dθ_G||")]:
    ax.loglog(d_mean, [p["minimax"][key] / p["non-saturating"][key] for p in measured],
              marker, color="k", alpha=0.7, label=f"measured ratio of {label}")
ax.loglog(d_axis, d_axis / (1 - d_axis), color="0.5",
          label="analytic D/(1-D) at one D value")
weighted = [np.sqrt((p["minimax"]["d_fake"] ** 2).sum() / ((1 - p["minimax"]["d_fake"]) ** 2)
                    .sum()) for p in measured]
ax.loglog(d_mean, weighted, "x", color="tab:purple",
          label="analytic with each sample's D: sqrt(Σ D_i² / Σ (1-D_i)²)")
ratios = [p["minimax"][key] / p["non-saturating"][key] for p in measured
          for key in ("grad_image_norm", "grad_theta_norm")] + weighted
ax.set_xlim(d_mean.max() * 1.5, d_mean.min() / 1.5)  # reversed: D(G(z)) falls →
d_ticks(ax, d_mean.min() / 1.5, d_mean.max() * 1.5)
ax.set_ylim(min(ratios) / 3, max(ratios) * 3)
ax.set_xlabel("mean D(G(z))")
ax.set_ylabel("minimax / non-saturating")
ax.set_title("(d) ratio of the two losses' gradients vs the analytic ratio", fontsize=10)
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
figure.suptitle("Saturating (minimax) vs non-saturating generator loss: the gradient "
                "as D(G(z)) → 0", fontsize=11)
figure.tight_layout()
path = os.path.join(args.out, "gradient_vs_d.png")
save_figure(figure, path, dpi=100)
print("wrote", path)

# %% [markdown]
# ## 3. The consequence: short runs
#
# Same initial weights, same data order, same noise; only the G loss differs. The MLP
# GAN (fast on a CPU), ``Trainer`` as it is -- Adam for both players -- and once more
# with plain SGD (momentum 0.9, lr 0.01) for G, as in the original paper. Adam divides
# each weight's gradient by its running RMS, so a uniformly small gradient still makes
# full-size steps: what saturation leaves to Adam is the *weighting* (minimax weights
# each fake by D(G(z)), so the fakes D rejects hardest count least). SGD keeps the
# magnitude, and the saturated G stalls.

# %%
runs = {}
for optimizer in ("Adam", "SGD"):
    for loss in LOSSES:
        G_run, D_run = mg.gan.build_models("mlp", 100, rng=mg.backend.default_rng(args.seed))
        trainer = mg.gan.Trainer(G_run, D_run, loss=loss, seed=args.seed)
        if optimizer == "SGD":
            trainer.opt_g = mg.optim.SGD(G_run.parameters(), lr=0.01, momentum=0.9)
        records, started = [], time.time()
        run_batches = mg.data.Batches(images, None, batch_size=args.batch_size,
                                      seed=args.seed)
        while trainer.step_count < args.run_steps:
            for x, _ in run_batches:
                records.append(trainer.step(x))
                if trainer.step_count >= args.run_steps:
                    break
        z_show = mg.backend.default_rng(args.seed + 300).standard_normal((36, 100),
                                                                         dtype="float32")
        runs[(optimizer, loss)] = {"records": records, "samples": trainer.sample(36, z=z_show)}
        last = records[-max(1, len(records) // 10):]
        print(f"{optimizer:>4} {loss:>14}: {args.run_steps} steps in "
              f"{time.time() - started:.0f} s; last 10% of steps: loss_G "
              f"{np.mean([r['loss_g'] for r in last]):.3f}, D(G(z)) "
              f"{np.mean([r['d_fake'] for r in last]):.3f}, D(x) "
              f"{np.mean([r['d_real'] for r in last]):.3f}, ||dL/dθ_G|| "
              f"{np.mean([r['grad_norm_g'] for r in last]):.3e}", flush=True)

# %%
figure = plt.figure(figsize=(14, 8.5))
grid = figure.add_gridspec(2, 4, height_ratios=[1, 1.15])
curves = [("loss_g", "loss_G", "linear"), ("d_fake", "D(G(z)) (mean)", "log"),
          ("grad_norm_g", "||dL/dθ_G||", "log")]
smooth = max(1, args.run_steps // 40)
for column, (key, label, scale) in enumerate(curves):
    ax = figure.add_subplot(grid[0, column])
    for (optimizer, loss), run in runs.items():
        values = np.array([r[key] for r in run["records"]])
        if smooth > 1:
            values = np.convolve(values, np.ones(smooth) / smooth, mode="valid")
        ax.plot(np.arange(len(values)) + smooth, values, color=COLORS[loss],
                linestyle="-" if optimizer == "Adam" else "--", label=f"{loss}, G: {optimizer}")
    ax.set_yscale(scale)
    ax.set_xlabel("step")
    ax.set_title(label, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if column == 0:
        ax.legend(fontsize=8)
for column, ((optimizer, loss), run) in enumerate(runs.items()):
    ax = figure.add_subplot(grid[1, column])
    ax.imshow(image_grid(run["samples"], columns=6), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{loss}, G: {optimizer}\nsamples after {args.run_steps} steps", fontsize=9)
    ax.axis("off")
ax = figure.add_subplot(grid[0, 3])
ax.axis("off")
ax.text(0, 0.95, "MLP GAN on MNIST, same start\n(weights, data order, noise).\n\n"
        "solid: Trainer as it is (Adam)\ndashed: SGD (momentum 0.9) for G\n\n"
        + (f"curves: moving average over {smooth} steps" if smooth > 1 else ""),
        va="top", fontsize=9)
figure.suptitle("Short runs: minimax (saturating) vs non-saturating generator loss",
                fontsize=11)
figure.tight_layout()
path = os.path.join(args.out, "short_runs.png")
save_figure(figure, path, dpi=100)
print("wrote", path)
