# %% [markdown]
"""
# A fully connected GAN on MNIST

The original GAN of Goodfellow et al. (2014) used plain multilayer perceptrons. This
example trains minigan's MLP pair (``mg.gan.mlp_generator`` / ``mg.gan.mlp_discriminator``)
on MNIST: no convolutions, no BatchNorm, each image seen as a vector of 784 pixels.
A step costs a fraction of a DCGAN step, so it trains many more steps in the same time;
compare its samples and numbers with ``mnist_dcgan.py``.

Run it as a script (``python examples/mnist_mlp_gan.py [--quick] [--out DIR]``) or open it
as a notebook (Jupytext / VS Code "percent" cells).

Figures: samples.png, curves.png
"""

# %%
import argparse
import json
import os
import time

import minigan as mg

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="Train a fully connected GAN on MNIST.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: a few steps on small batches, small evaluation")
parser.add_argument("--out", default="runs/examples/mnist_mlp_gan", help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--epochs", type=int, default=100, help="passes over the training set")
parser.add_argument("--steps", type=int, default=None,
                    help="stop after this many generator steps (default: all the epochs)")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--eval-n", type=int, default=2000, help="generated images to score")
parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
parser.add_argument("--download", action="store_true",
                    help="download MNIST when not found (default: use the embedded sample)")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
if args.quick:
    args.steps, args.batch_size, args.eval_n = args.steps or 40, 32, 256
os.makedirs(args.out, exist_ok=True)
print(f"settings: {vars(args)}")

# %% [markdown]
# ## 1. Data and networks
#
# The same loader and ``Batches`` as for the DCGAN: NHWC float32 images in [-1, 1]
# (offline: the 4,500 training digits of the embedded sample). The generator is
# Dense(100, 256) -> LeakyReLU -> Dense(256, 512) -> LeakyReLU -> Dense(512, 784) -> tanh
# -> reshape to 28x28x1; the discriminator flattens the image and mirrors it down to one
# logit. Weights start Glorot-uniform.

# %%
images, _ = mg.data.load_mnist("train", path=args.data, download=args.download,
                               embedded_fallback=True, embedded_split=True)
batches = mg.data.Batches(images, batch_size=args.batch_size, seed=args.seed)
rng = mg.backend.default_rng(args.seed)
G = mg.gan.mlp_generator(latent_dim=100, hidden=(256, 512), rng=rng)
D = mg.gan.mlp_discriminator(hidden=(512, 256), rng=rng)
for name, net in (("G", G), ("D", D)):
    print(f"{name}: {sum(p.data.size for p in net.parameters()):,} parameters\n{net}")

# %% [markdown]
# ## 2. Training
#
# The same ``Trainer`` as for the DCGAN: per step one D update (real target 0.9,
# fake target 0) and one non-saturating G update through the frozen D.

# %%
trainer = mg.gan.Trainer(G, D, loss="non-saturating", lr_d=2e-4, lr_g=2e-4,
                         betas=(0.5, 0.999), real_label=0.9, d_steps=1, seed=args.seed)
total = args.epochs * len(batches) if args.steps is None else args.steps
log_every = max(1, total // 20)
records = []
started = time.time()
while trainer.step_count < total:
    for x, _ in batches:
        stats = trainer.step(x)
        records.append(stats)
        step = stats["step"]
        if step % log_every == 0 or step == total:
            rate = (time.time() - started) / step
            print(f"step {step:5d}/{total}  epoch {batches.epoch + 1}  "
                  f"loss_D {stats['loss_d']:.3f}  loss_G {stats['loss_g']:.3f}  "
                  f"D(x) {stats['d_real']:.2f}  D(G(z)) {stats['d_fake']:.2f}  "
                  f"{1000 * rate:.0f} ms/step  ETA {rate * (total - step):.0f} s", flush=True)
        if step >= total:
            break
train_seconds = time.time() - started
print(f"trained {trainer.step_count} steps in {train_seconds:.0f} s "
      f"({1000 * train_seconds / trainer.step_count:.0f} ms/step)")

# %% [markdown]
# ## 3. Samples, curves and numbers
#
# Without convolutions the generator has no built-in notion that neighbouring pixels
# belong together: each of the 784 outputs is its own linear function of the last hidden
# layer, so MLP samples show isolated bright pixels (speckles) that the DCGAN's smooth
# transposed convolutions do not make. On the other hand a step is about ten times
# cheaper, so in the same few minutes the MLP GAN trains ten times more steps. The
# classifier-based Fréchet distance to held-out digits (lower is better; real training
# digits score about 5 at these sizes, noise about 700) puts a number on the result, with
# precision, recall and the copy fraction (``mg.metrics.heldout_report``, as in
# ``mnist_dcgan.py``).

# %%
z_fixed = mg.backend.default_rng(args.seed + 1).standard_normal((64, 100), dtype="float32")
mg.plots.save_image_grid(trainer.sample(64, z=z_fixed), os.path.join(args.out, "samples.png"),
                         title=f"MLP GAN samples after {trainer.step_count} steps")
mg.plots.plot_training_curves(records, os.path.join(args.out, "curves.png"),
                              equilibrium=mg.plots.bce_equilibrium(trainer.real_label,
                                                                   trainer.fake_label))
print(f"wrote {args.out}/samples.png and {args.out}/curves.png")

eval_rng = mg.backend.default_rng(10_000 + args.seed)
fake = mg.backend.to_numpy(trainer.sample(
    args.eval_n, z=eval_rng.standard_normal((args.eval_n, 100), dtype="float32")))
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
