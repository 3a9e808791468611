# %% [markdown]
"""
# The MNIST DCGAN, step by step

Trains minigan's seed DCGAN (``mg.gan.dcgan_generator`` / ``mg.gan.dcgan_discriminator``)
on MNIST with the library's public pieces -- data loader, ``Batches``, ``Trainer.step``
-- then draws a sample grid and the training curves and scores the generator with
``minigan.metrics`` (Fréchet distance in a small MNIST classifier's feature space,
classes present, classifier confidence).

Run it as a script (``python examples/mnist_dcgan.py [--quick] [--out DIR]``) or open it
as a notebook (Jupytext / VS Code "percent" cells).

Figures: samples.png, curves.png
"""

# %%
import argparse
import json
import os
import time

import numpy as np

import minigan as mg

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="Train the MNIST DCGAN.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: a few steps on small batches, small evaluation")
parser.add_argument("--out", default="runs/examples/mnist_dcgan", help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--epochs", type=int, default=8, help="passes over the training set")
parser.add_argument("--steps", type=int, default=None,
                    help="stop after this many generator steps (default: all the epochs)")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--eval-n", type=int, default=2000, help="generated images to score")
parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
parser.add_argument("--download", action="store_true",
                    help="download MNIST when not found (default: use the embedded sample)")
# parse_known_args: a notebook kernel passes its own arguments (-f kernel.json)
args, _ = parser.parse_known_args()
if args.quick:
    args.steps, args.batch_size, args.eval_n = args.steps or 12, 32, 256
os.makedirs(args.out, exist_ok=True)
print(f"settings: {vars(args)}")

# %% [markdown]
# ## 1. Data
#
# ``load_mnist`` looks for the four IDX files (``--data``, ``$MINIGAN_DATA``, the cache).
# With none found and no download allowed it falls back to the **5,000 real MNIST digits
# embedded in the package** and says so on stderr; ``embedded_split=True`` takes its
# fixed training part, 4,500 digits (the other 500 are held out for scoring).
# ``Batches`` scales uint8 pixels to float32 in [-1, 1] (the range of the generator's
# tanh), adds the channel axis -- images are **NHWC**, (N, 28, 28, 1) -- and hands out one
# shuffled epoch per ``for`` loop.

# %%
images, labels = mg.data.load_mnist("train", path=args.data, download=args.download,
                                    embedded_fallback=True, embedded_split=True)
print(f"training images: {images.shape} {images.dtype}")
batches = mg.data.Batches(images, batch_size=args.batch_size, seed=args.seed)
x, _ = next(iter(batches))
print(f"one batch: {x.shape} {x.dtype}, pixel range [{x.min():.1f}, {x.max():.1f}]")
batches = mg.data.Batches(images, batch_size=args.batch_size, seed=args.seed)  # fresh epoch

# %% [markdown]
# ## 2. The two networks
#
# The generator maps noise z (N, 100) through Dense -> 7x7x128 -> transposed convolutions
# (stride 2) -> 28x28x1 with a tanh. The discriminator mirrors it with strided convolutions
# and returns one **logit** per image (no sigmoid: the loss applies it stably). Both start
# from N(0, 0.02) weights; a seeded generator makes them reproducible.

# %%
rng = mg.backend.default_rng(args.seed)
G = mg.gan.dcgan_generator(latent_dim=100, rng=rng)
D = mg.gan.dcgan_discriminator(rng=rng)
for name, net in (("G", G), ("D", D)):
    count = sum(p.data.size for p in net.parameters())
    print(f"{name}: {count:,} parameters\n{net}")

# %% [markdown]
# ## 3. The trainer
#
# One ``trainer.step(x)`` is one discriminator update (real batch with target 0.9 --
# one-sided label smoothing -- and a fake batch with target 0) followed by one generator
# update with the non-saturating loss: the generator's gradient comes *through* the frozen
# discriminator. It returns the step's numbers: losses and the mean D outputs
# D(x) on real and D(G(z)) on fake images.

# %%
trainer = mg.gan.Trainer(G, D, loss="non-saturating", lr_d=2e-4, lr_g=2e-4,
                         betas=(0.5, 0.999), real_label=0.9, d_steps=1, seed=args.seed)
total = args.epochs * len(batches) if args.steps is None else args.steps
log_every = max(1, min(50, total // 10))
records = []
started = time.time()
while trainer.step_count < total:
    for x, _ in batches:  # one epoch
        stats = trainer.step(x)
        records.append(stats)
        step = stats["step"]
        if step % log_every == 0 or step == total:
            rate = (time.time() - started) / step
            print(f"step {step:5d}/{total}  epoch {batches.epoch + 1}  "
                  f"loss_D {stats['loss_d']:.3f}  loss_G {stats['loss_g']:.3f}  "
                  f"D(x) {stats['d_real']:.2f}  D(G(z)) {stats['d_fake']:.2f}  "
                  f"{rate:.2f} s/step  ETA {rate * (total - step):.0f} s", flush=True)
        if step >= total:
            break
train_seconds = time.time() - started
print(f"trained {trainer.step_count} steps in {train_seconds:.0f} s")

# %% [markdown]
# ## 4. Samples and curves
#
# ``trainer.sample`` runs the generator in eval mode (BatchNorm uses its running
# statistics). The curves show the two-player game: neither loss goes to zero when
# training is healthy, and D's outputs on real and fake images stay apart but bounded.

# %%
z_fixed = mg.backend.default_rng(args.seed + 1).standard_normal((64, 100), dtype="float32")
mg.plots.save_image_grid(trainer.sample(64, z=z_fixed), os.path.join(args.out, "samples.png"),
                         title=f"DCGAN samples after {trainer.step_count} steps")
mg.plots.plot_training_curves(records, os.path.join(args.out, "curves.png"),
                              equilibrium=mg.plots.bce_equilibrium(trainer.real_label,
                                                                   trainer.fake_label))
print(f"wrote {args.out}/samples.png and {args.out}/curves.png")

# %% [markdown]
# ## 5. How good are the samples?
#
# A small MNIST classifier shipped with minigan embeds real and generated digits; the
# **Fréchet distance** between the two feature clouds is an FID-like number (not
# comparable with Inception FIDs). The samples are scored against real digits the model
# never saw -- the embedded sample's 500 held-out digits, or MNIST's test split -- so a
# generator that handed back its training digits would not look perfect.
# ``mg.metrics.heldout_report`` adds what to compare with: the same FD for as many real
# *training* digits against the same held-out ones (FD is biased upwards for small
# samples: about 5 at these sizes, not 0; uniform noise scores about 700), precision
# (fidelity) and recall (diversity), and the copy fraction (samples nearer a training
# digit than 99% of held-out digits are: ~0.01 for new digits, ~1 for a copier).

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
result.update(steps=trainer.step_count, train_seconds=round(train_seconds, 1),
              batch_size=args.batch_size, seed=args.seed)
with open(os.path.join(args.out, "results.json"), "w") as file:
    json.dump(result, file, indent=2)
