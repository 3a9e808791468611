# %% [markdown]
"""
# WGAN-GP on MNIST: the critic's input gradient, penalised by double backprop

Trains the MNIST DCGAN generator against a **critic** with the Wasserstein loss and the
gradient penalty of Gulrajani et al. (2017):

    critic loss = mean D(G(z)) - mean D(x) + lambda * mean (||grad_x D(x_hat)|| - 1)^2,
    x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample, lambda = 10,

with the paper's settings: 5 critic steps per generator step, Adam with lr 1e-4 and betas
(0, 0.9), and LayerNorm instead of BatchNorm in the critic (``mg.gan.dcgan_critic``). The
penalty's gradient with respect to the critic's weights passes *through the critic's
backward pass*: minigan computes it by hand (docs/backprop_through_the_backprop.md).

Then it looks at what the penalty does: the distribution of ||grad_x D(x_hat)|| over a
fixed probe batch of interpolates, early in training and at the end.

Run it as a script (``python examples/wgan_gp_mnist.py [--quick] [--out DIR]``) or open it
as a notebook (Jupytext / VS Code "percent" cells).

Figures: samples.png, curves.png, gradient_norms.png
"""

# %%
import argparse
import json
import os
import time

import numpy as np  # noqa: E402

import minigan as mg  # noqa: E402
from minigan.plots import plt, save_figure  # Agg, or inline in a notebook

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="Train WGAN-GP on MNIST.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: a few steps on small batches, small evaluation")
parser.add_argument("--out", default="runs/examples/wgan_gp_mnist", help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--steps", type=int, default=300, help="generator steps")
parser.add_argument("--d-steps", type=int, default=5, help="critic steps per generator step")
parser.add_argument("--lr", type=float, default=1e-4, help="Adam's learning rate, both nets")
parser.add_argument("--gp-weight", type=float, default=10.0, help="lambda")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--eval-n", type=int, default=2000, help="generated images to score")
parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
parser.add_argument("--download", action="store_true",
                    help="download MNIST when not found (default: use the embedded sample)")
# parse_known_args: a notebook kernel passes its own arguments (-f kernel.json)
args, _ = parser.parse_known_args()
if args.quick:
    args.steps, args.d_steps, args.batch_size, args.eval_n = 6, 2, 16, 256
os.makedirs(args.out, exist_ok=True)
print(f"settings: {vars(args)}")

# %% [markdown]
# ## 1. Data, generator and critic
#
# The generator is the MNIST DCGAN's. The critic is its discriminator with one change,
# ``LayerNorm((7, 7, 128))`` where the DCGAN has ``BatchNorm2d(128)``: BatchNorm makes each
# sample's output depend on the whole batch, so "the gradient of D at one sample" -- what
# the penalty measures -- would not be defined (a BatchNorm critic is refused with a
# ``ConfigError``). The critic's output is an unbounded score, not a logit.

# %%
images, _ = mg.data.load_mnist("train", path=args.data, download=args.download,
                               embedded_fallback=True, embedded_split=True)
batches = mg.data.Batches(images, batch_size=args.batch_size, seed=args.seed)
rng = mg.backend.default_rng(args.seed)
G = mg.gan.dcgan_generator(latent_dim=100, rng=rng)
D = mg.gan.dcgan_critic(rng=rng)
print(D)

# %% [markdown]
# ## 2. A probe of the critic's input gradient
#
# The interpolates cannot be fixed once and for all (G changes), so the probe fixes the
# real digits, the noise and the mixing weights eps, and makes x_hat with the generator of
# the moment (sampled in eval mode, so probing changes nothing in the run).
# ``mg.gan.input_gradient(D, x)`` is D's first-order input gradient per sample (D's state
# untouched); its row norms are the ||grad_x D(x_hat)|| the penalty pushes towards 1.

# %%
probe_n = 64 if args.quick else 512
probe_rng = mg.backend.default_rng(20_000 + args.seed)
probe_real = mg.data.to_unit_range(images[:probe_n])            # (probe_n, 28, 28, 1)
probe_z = probe_rng.standard_normal((probe_n, 100), dtype="float32")
probe_eps = probe_rng.random((probe_n, 1, 1, 1), dtype="float32")


def probe_norms():
    """||grad_x D(x_hat)_n|| on the probe's interpolates, as a host array."""
    fake = trainer.sample(probe_n, z=probe_z)   # eval mode: G's BatchNorm statistics kept
    x_hat = probe_eps * probe_real + (1 - probe_eps) * fake
    g = mg.gan.input_gradient(D, x_hat)
    return np.sqrt((mg.backend.to_numpy(g) ** 2).reshape(probe_n, -1).sum(axis=1))


# %% [markdown]
# ## 3. Training
#
# One ``trainer.step(x)`` is ``d_steps`` critic updates -- each on a real batch, a fake
# batch and, for the penalty, their interpolates -- then one generator update. It reports
# the penalty, the mean ||grad_x D|| it was taken of, and the critic's Wasserstein
# estimate mean D(x) - mean D(G(z)).

# %%
trainer = mg.gan.Trainer(G, D, loss=mg.gan.get_objective("wgan-gp", weight=args.gp_weight),
                         lr_d=args.lr, lr_g=args.lr, betas=(0.0, 0.9), d_steps=args.d_steps,
                         seed=args.seed)
early_step = max(1, args.steps // 20)
norms = {}
records = []
started = time.time()
log_every = max(1, min(25, args.steps // 10))
while trainer.step_count < args.steps:
    for x, _ in batches:
        stats = trainer.step(x)
        records.append(stats)
        step = stats["step"]
        if step == early_step:
            norms["early"] = probe_norms()
        if step % log_every == 0 or step == args.steps:
            rate = (time.time() - started) / step
            print(f"step {step:4d}/{args.steps}  W estimate {stats['wasserstein']:7.3f}  "
                  f"penalty {stats['penalty']:6.3f}  mean ||grad_x D|| "
                  f"{stats['grad_norm_x']:.3f}  loss_G {stats['loss_g']:8.3f}  "
                  f"{rate:.2f} s/step", flush=True)
        if step >= args.steps:
            break
train_seconds = time.time() - started
norms["late"] = probe_norms()
print(f"trained {trainer.step_count} steps in {train_seconds:.0f} s")

# %% [markdown]
# ## 4. Samples and curves
#
# The third panel of the curves is the critic's: the mean ||grad_x D|| on each step's
# interpolates (dotted: 1) and the Wasserstein estimate, which falls as the generator
# improves -- unlike a BCE discriminator's loss, it is a (rough) measure of progress.

# %%
z_fixed = mg.backend.default_rng(args.seed + 1).standard_normal((64, 100), dtype="float32")
mg.plots.save_image_grid(trainer.sample(64, z=z_fixed), os.path.join(args.out, "samples.png"),
                         title=f"WGAN-GP samples after {trainer.step_count} steps")
mg.plots.plot_training_curves(records, os.path.join(args.out, "curves.png"))

# %% [markdown]
# ## 5. The distribution of ||grad_x D(x_hat)||, early and late
#
# Early, the critic's slope on the interpolates is spread out and mostly above 1 (the
# Wasserstein terms push it up); the penalty pulls the whole distribution towards 1.

# %%
fig, ax = plt.subplots(figsize=(7, 4))
edges = np.linspace(0, max(3.0, max(v.max() for v in norms.values()) * 1.05), 60)
for key, color in (("early", "C1"), ("late", "C0")):
    step = early_step if key == "early" else trainer.step_count
    ax.hist(norms[key], bins=edges, alpha=0.6, color=color,
            label=f"step {step}: median {np.median(norms[key]):.2f}")
ax.axvline(1.0, color="k", linestyle=":", label="the target 1")
ax.set_xlabel("||grad_x D(x_hat)|| on the probe's interpolates")
ax.set_ylabel("samples")
ax.set_title(f"WGAN-GP critic's input-gradient norms ({probe_n} interpolates)", fontsize=10)
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, os.path.join(args.out, "gradient_norms.png"), dpi=110)

# %% [markdown]
# ## 6. How good are the samples?
#
# The Fréchet distance in the feature space of minigan's small MNIST classifier (not
# Inception FID) to digits the critic never saw, the classes present, the mean classifier
# confidence, precision, recall and the copy fraction, as in ``examples/mnist_dcgan.py``
# (real training digits score FD about 5 at these sizes).

# %%
eval_rng = mg.backend.default_rng(10_000 + args.seed)
fake = np.concatenate([
    mg.backend.to_numpy(trainer.sample(m, z=eval_rng.standard_normal((m, 100), dtype="float32")))
    for m in [min(500, args.eval_n - s) for s in range(0, args.eval_n, 500)]])
heldout, _ = mg.data.load_mnist("test", path=args.data, download=args.download,
                                embedded_fallback=True, embedded_split=True)
result = mg.metrics.heldout_report(fake, mg.data.to_unit_range(images),
                                   mg.data.to_unit_range(heldout))
print(mg.metrics.format_report(result))
print(mg.metrics.format_heldout_report(result))
result.update(steps=trainer.step_count, d_steps=args.d_steps,
              train_seconds=round(train_seconds, 1), batch_size=args.batch_size, seed=args.seed,
              gradient_norms={key: {"step": early_step if key == "early" else trainer.step_count,
                                    "median": float(np.median(v)), "mean": float(v.mean()),
                                    "p10": float(np.percentile(v, 10)),
                                    "p90": float(np.percentile(v, 90))}
                              for key, v in norms.items()})
with open(os.path.join(args.out, "results.json"), "w") as file:
    json.dump(result, file, indent=2)
