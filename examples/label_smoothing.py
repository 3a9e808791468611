# %% [markdown]
"""
# One-sided label smoothing: what it does to the discriminator

Salimans et al. (2016) train the discriminator towards 0.9 instead of 1 on real images
("one-sided label smoothing"). With target t on real images, the best D can do is output
D(x) = t, i.e. a logit of log(t / (1 - t)) = 2.2 for t = 0.9 -- while with t = 1 the loss
keeps rewarding ever larger logits: an ever more confident D, whose gradients tell G
less and less. This example trains the same GAN, from the **same initial weights, noise
and data order**, with real targets 0.9 (minigan's default) and 1.0 (no smoothing), and
optionally two-sided smoothing (real 0.9, fake 0.1), which Salimans et al. advise against:
with fake target b > 0 the optimal D is (0.9 p_data + b p_model) / (p_data + p_model),
which stays at b wherever only fakes are, so it weakens the push that moves those fakes
towards the data. It compares D's outputs and the magnitude of its logits, the loss
curves, and the sample quality (Fréchet distance) after the same number of steps.

Run it as a script (``python examples/label_smoothing.py [--quick] [--out DIR]``) or open
it as a notebook (Jupytext / VS Code "percent" cells).

Figures: label_smoothing.png
"""

# %%
import argparse
import json
import math
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import minigan as mg

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="One-sided label smoothing vs none.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: a few steps on small batches, small evaluation")
parser.add_argument("--out", default="runs/examples/label_smoothing", help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--steps", type=int, default=250, help="generator steps per variant")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--model", choices=["dcgan", "mlp"], default="dcgan")
parser.add_argument("--no-two-sided", action="store_true",
                    help="compare only one-sided smoothing and none")
parser.add_argument("--probe-every", type=int, default=10,
                    help="measure D's logits on fixed batches every this many steps")
parser.add_argument("--eval-n", type=int, default=1000, help="generated images to score")
parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
parser.add_argument("--download", action="store_true",
                    help="download MNIST when not found (default: use the embedded sample)")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
if args.quick:
    args.steps, args.batch_size, args.eval_n, args.probe_every = 6, 32, 200, 2
os.makedirs(args.out, exist_ok=True)
print(f"settings: {vars(args)}")

# %% [markdown]
# ## 1. The variants
#
# Each is a ``Trainer`` with different BCE targets: ``real_label`` for real images,
# ``fake_label`` for generated ones. Everything else is identical.

# %%
VARIANTS = {
    "one-sided (real 0.9)": dict(real_label=0.9, fake_label=0.0),
    "none (real 1.0)": dict(real_label=1.0, fake_label=0.0),
}
if not args.no_two_sided:
    VARIANTS["two-sided (real 0.9, fake 0.1)"] = dict(real_label=0.9, fake_label=0.1)
for name, labels in VARIANTS.items():
    t = labels["real_label"]
    best = "unbounded" if t == 1 else f"{math.log(t / (1 - t)):.2f}"
    print(f"{name:32s} best real logit: {best}")

# %% [markdown]
# ## 2. Data, fixed probe batches, and the reference features
#
# Every few steps we *probe* D on the same 64 real digits and on fakes from the same 64
# noise vectors, and record its raw logits. D's training batches change every step, so
# the trainer's own ``d_real`` / ``d_fake`` numbers are noisy; fixed probes are not. The
# runs train on the embedded sample's 4,500 training digits (with the MNIST files: the
# training split) and are scored against the 500 held-out ones (the test split).

# %%
images, _ = mg.data.load_mnist("train", path=args.data, download=args.download,
                               embedded_fallback=True, embedded_split=True)
heldout, _ = mg.data.load_mnist("test", path=args.data, download=args.download,
                                embedded_fallback=True, embedded_split=True)
train_real, heldout_real = mg.data.to_unit_range(images), mg.data.to_unit_range(heldout)
x_probe = train_real[np.random.default_rng(12345).permutation(len(images))[:64]]
z_probe = mg.backend.default_rng(args.seed + 1).standard_normal((64, 100), dtype="float32")


def build(model, seed):
    """The GAN pair, initialised from a generator seeded with ``seed``."""
    rng = mg.backend.default_rng(seed)
    if model == "dcgan":
        return mg.gan.dcgan_generator(100, rng=rng), mg.gan.dcgan_discriminator(rng=rng)
    return mg.gan.mlp_generator(100, rng=rng), mg.gan.mlp_discriminator(rng=rng)


def probe(trainer):
    """D's logits on the fixed real batch and on G(z_probe), as D sees them in training
    (both networks in training mode). The networks' state (BatchNorm running statistics)
    is restored afterwards, so probing leaves no trace on the training run."""
    saved_g, saved_d = trainer.G.state_dict(), trainer.D.state_dict()
    fake = trainer.G(z_probe)
    logits_real = mg.backend.to_numpy(trainer.D(x_probe)).ravel()
    logits_fake = mg.backend.to_numpy(trainer.D(fake)).ravel()
    trainer.G.load_state_dict(saved_g)
    trainer.D.load_state_dict(saved_d)
    return logits_real, logits_fake


# %% [markdown]
# ## 3. Train every variant for the same number of steps
#
# Same seed for the weights, the trainer's noise and the data order: the runs differ
# only in their targets. (We check that the initial weights really are identical.)

# %%
runs = {}
initial = None
for name, targets in VARIANTS.items():
    G, D = build(args.model, args.seed)
    weights = [mg.backend.to_numpy(p.data).copy() for p in G.parameters() + D.parameters()]
    if initial is None:
        initial = weights
    same = all(np.array_equal(a, b) for a, b in zip(initial, weights))
    trainer = mg.gan.Trainer(G, D, loss="non-saturating", lr_d=2e-4, lr_g=2e-4,
                             betas=(0.5, 0.999), d_steps=1, seed=args.seed, **targets)
    batches = mg.data.Batches(images, batch_size=args.batch_size, seed=args.seed)
    records, probes = [], []
    started = time.time()
    while trainer.step_count < args.steps:
        for x, _ in batches:
            stats = trainer.step(x)
            records.append(stats)
            if trainer.step_count % args.probe_every == 0 or trainer.step_count == 1:
                probes.append((trainer.step_count, *probe(trainer)))
            if trainer.step_count % max(1, args.steps // 5) == 0:
                print(f"  {name}: step {trainer.step_count}/{args.steps}  "
                      f"loss_D {stats['loss_d']:.3f}  loss_G {stats['loss_g']:.3f}  "
                      f"D(x) {stats['d_real']:.2f}  D(G(z)) {stats['d_fake']:.2f}  "
                      f"{time.time() - started:.0f} s", flush=True)
            if trainer.step_count >= args.steps:
                break
    seconds = time.time() - started
    last = records[-1]
    step, lr, lf = probes[-1]
    print(f"{name:32s} initial weights identical to the first run: {same}; "
          f"{args.steps} steps in {seconds:.0f} s; at step {step}: mean |logit| real "
          f"{np.abs(lr).mean():.2f}, fake {np.abs(lf).mean():.2f}; "
          f"D(x) {last['d_real']:.3f}, D(G(z)) {last['d_fake']:.3f}", flush=True)
    runs[name] = dict(trainer=trainer, records=records, probes=probes, seconds=seconds)

# %% [markdown]
# ## 4. Sample quality after the same steps
#
# The Fréchet distance between generated and held-out digits in the shipped classifier's
# feature space (lower is better; real training digits at these sizes:
# ``reference_frechet_distance``), the classes present, the mean confidence, precision,
# recall and the copy fraction (``mg.metrics.heldout_report``).

# %%
eval_z = mg.backend.default_rng(10_000 + args.seed).standard_normal((args.eval_n, 100),
                                                                    dtype="float32")
REPORTED = ("frechet_distance", "reference_frechet_distance", "classes_present",
            "kl_to_uniform", "mean_confidence", "precision", "recall", "copy_fraction",
            "n_fake", "n_real")
summary = {}
for name, run in runs.items():
    fake = mg.backend.to_numpy(run["trainer"].sample(args.eval_n, z=eval_z))
    report = mg.metrics.heldout_report(fake, train_real, heldout_real)
    tail = run["records"][-max(1, len(run["records"]) // 10):]  # the last 10% of steps
    probe_real = np.array([np.abs(p[1]).mean() for p in run["probes"]])
    probe_fake = np.array([np.abs(p[2]).mean() for p in run["probes"]])
    summary[name] = dict(
        **VARIANTS[name], **{key: report[key] for key in REPORTED},
        d_real_last10pct=float(np.mean([r["d_real"] for r in tail])),
        d_fake_last10pct=float(np.mean([r["d_fake"] for r in tail])),
        loss_d_last10pct=float(np.mean([r["loss_d"] for r in tail])),
        loss_g_last10pct=float(np.mean([r["loss_g"] for r in tail])),
        abs_logit_real_final=float(probe_real[-1]), abs_logit_fake_final=float(probe_fake[-1]),
        abs_logit_real_max=float(probe_real.max()), abs_logit_fake_max=float(probe_fake.max()),
        steps=args.steps, train_seconds=round(run["seconds"], 1))

print(f"\nafter {args.steps} steps ({args.model}, batch {args.batch_size}, seed {args.seed}; "
      f"FD from {args.eval_n} samples vs {len(heldout)} held-out digits):")
print(f"{'variant':32s} {'FD':>7s} {'classes':>7s} {'conf':>5s} {'D(x)':>5s} {'D(G(z))':>7s} "
      f"{'|logit| real':>12s} {'|logit| fake':>12s} {'max |logit| real':>16s}")
for name, s in summary.items():
    print(f"{name:32s} {s['frechet_distance']:7.1f} {s['classes_present']:5d}/10 "
          f"{s['mean_confidence']:5.2f} {s['d_real_last10pct']:5.2f} {s['d_fake_last10pct']:7.2f} "
          f"{s['abs_logit_real_final']:12.2f} {s['abs_logit_fake_final']:12.2f} "
          f"{s['abs_logit_real_max']:16.2f}")
with open(os.path.join(args.out, "results.json"), "w") as file:
    json.dump(summary, file, indent=2)

# %% [markdown]
# ## 5. One figure
#
# Top row: D's mean output on real and fake training batches (dotted: each variant's
# targets) and the mean |logit| on the fixed probes (solid: real, dashed: fake). Middle
# row: the losses -- loss_D cannot go below the entropy of its targets (0.325 nats with
# real target 0.9, 0.65 with two-sided smoothing, 0 without), so the smoothed variants'
# curves sit higher for that reason alone -- and the Fréchet distance. Bottom row:
# samples from the same noise.
#
# What to look for: without smoothing D is rewarded for ever larger logits on real
# digits, and its real logits do grow largest; with target 0.9 they hover around
# log 9 = 2.2. Whether that buys better samples is a separate question: this is one seed
# and a short run, so FD differences of a few units are within seed-to-seed noise; run
# it with other ``--seed`` values (or more ``--steps``) before drawing a conclusion.

# %%
def smooth(values, window):
    values = np.asarray(values, dtype=float)
    if len(values) < 2 * window or window < 2:
        return np.arange(1, len(values) + 1), values
    return np.arange(window, len(values) + 1), np.convolve(values, np.ones(window) / window,
                                                           mode="valid")


colors = dict(zip(VARIANTS, ["tab:blue", "tab:red", "tab:green"]))
window = max(1, args.steps // 25)
figure = plt.figure(figsize=(15, 11))
grid = figure.add_gridspec(3, 3, height_ratios=[1, 1, 0.8])
panels = [("d_real", "mean D(x) on real batches"), ("d_fake", "mean D(G(z)) on fake batches")]
# one legend for the three colours, above the panels: inside a panel it would cover curves
for column, (key, title) in enumerate(panels):
    axes = figure.add_subplot(grid[0, column])
    for name, run in runs.items():
        steps, values = smooth([r[key] for r in run["records"]], window)
        axes.plot(steps, values, color=colors[name], label=name)
        if key == "d_real":
            axes.axhline(VARIANTS[name]["real_label"], color=colors[name], linestyle=":")
        else:
            axes.axhline(VARIANTS[name]["fake_label"], color=colors[name], linestyle=":")
    axes.set(title=title + "\n(dotted: each variant's target)", xlabel="generator step",
             ylim=(0, 1))
    axes.grid(alpha=0.3)
axes = figure.add_subplot(grid[0, 2])
for name, run in runs.items():
    steps = [p[0] for p in run["probes"]]
    axes.plot(steps, [np.abs(p[1]).mean() for p in run["probes"]], color=colors[name],
              label=f"{name}: real")
    axes.plot(steps, [np.abs(p[2]).mean() for p in run["probes"]], color=colors[name],
              linestyle="--", label=f"{name}: fake")
axes.axhline(math.log(9), color="gray", linestyle=":", label="log 9 = logit of 0.9")
axes.set(title="mean |logit| of D on fixed probe batches\n(solid: real, dashed: fake, "
         "dotted: log 9 = logit of 0.9)", xlabel="generator step")
axes.grid(alpha=0.3)
for column, (key, title) in enumerate([("loss_d", "loss D"), ("loss_g", "loss G")]):
    axes = figure.add_subplot(grid[1, column])
    for name, run in runs.items():
        steps, values = smooth([r[key] for r in run["records"]], window)
        axes.plot(steps, values, color=colors[name], label=name)
    average = f" (moving average over {window} steps)" if window > 1 else ""
    axes.set(title=title + average, xlabel="generator step")
    axes.grid(alpha=0.3)
axes = figure.add_subplot(grid[1, 2])
names = list(summary)
values = [summary[n]["frechet_distance"] for n in names]
bars = axes.bar(range(len(names)), values, color=[colors[n] for n in names])
axes.bar_label(bars, [f"{v:.1f}" for v in values])
axes.set_ylim(0, 1.12 * max(values))  # room for the labels under the title
axes.set_xticks(range(len(names)), [n.replace(" (", "\n(") for n in names], fontsize=8)
axes.set(title=f"Fréchet distance after {args.steps} steps (lower is better)")
for column, (name, run) in enumerate(runs.items()):
    axes = figure.add_subplot(grid[2, column])
    tiles = mg.plots.image_grid(run["trainer"].sample(32, z=z_probe[:32]), columns=8)
    axes.imshow(tiles, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes.set_title(f"{name}: samples", fontsize=10)
    axes.axis("off")
figure.suptitle(f"label smoothing, {args.model.upper()} on MNIST, same initial weights, noise "
                f"and data order, {args.steps} steps of batch {args.batch_size}")
figure.legend([plt.Line2D([], [], color=colors[name]) for name in runs], list(runs),
              loc="upper center", bbox_to_anchor=(0.5, 0.965), ncol=len(runs), fontsize=10)
figure.tight_layout(rect=(0, 0, 1, 0.94))
mg.plots.save_figure(figure, os.path.join(args.out, "label_smoothing.png"), dpi=80)
print(f"wrote {args.out}/label_smoothing.png")
