# %% [markdown]
"""
# A conditional GAN: ask for a digit, get that digit

In a conditional GAN (Mirza & Osindero, 2014) both players see the class label y: the
generator makes G(z, y) from noise *and* a one-hot label, the discriminator judges
D(x, y) -- "is this a real image **of class y**?" -- so a generator that draws a 3 when
asked for a 7 is caught even if the 3 looks perfect. We train two conditional GANs -- a
fully connected one and the convolutional DCGAN with labels, whose discriminator is a
projection discriminator (Miyato & Koyama, 2018) -- then ask each for every digit 0-9 and
check with minigan's shipped MNIST classifier that we got it.

Run it as a script (``python examples/conditional_mnist.py [--quick] [--out DIR]
[--model mlp|dcgan|both]``) or open it as a notebook (Jupytext / VS Code "percent" cells).

Figures: samples_by_class.png, curves.png, samples_by_class_dcgan.png, curves_dcgan.png
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
    description="Train conditional GANs on MNIST.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: a few steps on small batches, small evaluation")
parser.add_argument("--out", default="runs/examples/conditional_mnist",
                    help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--model", choices=["mlp", "dcgan", "both"], default="both",
                    help="the MLP conditional GAN, the conditional DCGAN, or both")
parser.add_argument("--epochs", type=int, default=100,
                    help="passes over the training set for the MLP")
parser.add_argument("--dcgan-epochs", type=int, default=20,
                    help="passes over the training set for the conditional DCGAN")
parser.add_argument("--steps", type=int, default=None,
                    help="stop each model after this many generator steps (default: the epochs)")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--eval-n", type=int, default=2000,
                    help="generated images to score (a multiple of 10: balanced classes)")
parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
parser.add_argument("--download", action="store_true",
                    help="download MNIST when not found (default: use the embedded sample)")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
if args.quick:
    args.steps, args.batch_size, args.eval_n = args.steps or 40, 32, 250
os.makedirs(args.out, exist_ok=True)
print(f"settings: {vars(args)}")

# %% [markdown]
# ## 1. Data with labels
#
# This time ``Batches`` carries the labels along: each batch is ``(x, y)`` with images
# (N, 28, 28, 1) in [-1, 1] and their digits (N,). Offline these are the embedded sample's
# 4,500 training digits; its 500 held-out digits (MNIST's test split with the files) are
# what the samples are scored against.

# %%
images, labels = mg.data.load_mnist("train", path=args.data, download=args.download,
                                    embedded_fallback=True, embedded_split=True)
heldout, _ = mg.data.load_mnist("test", path=args.data, download=args.download,
                                embedded_fallback=True, embedded_split=True)
print(f"{len(images)} digits, per class: {np.bincount(labels, minlength=10).tolist()}")

# %% [markdown]
# ## 2. Networks that take a label
#
# **MLP.** ``conditional_generator`` concatenates [z, onehot(y)] (100 + 10 numbers) and
# feeds an MLP that ends in tanh and a reshape to 28x28x1. ``conditional_discriminator``
# concatenates [flatten(x), onehot(y)] (784 + 10) and returns one logit.
#
# **Conditional DCGAN.** ``conditional_dcgan_generator`` is the MNIST DCGAN generator on
# [z, onehot(y)]: the first Dense projects both to the 7x7x128 map. Its discriminator is a
# *projection discriminator*: the DCGAN discriminator's convolutions give features h, and
# D(x, y) = Dense(h) + <E[y], h>, with a learned embedding vector E[y] per class -- the
# label enters through an inner product with what D sees, not as extra input pixels.
#
# All are called with two arguments: ``G(z, y)``, ``D(x, y)``. The label is an input, not a
# parameter: ``D.backward`` returns the gradient for the image only.

# %%
def make_models(name, seed):
    rng = mg.backend.default_rng(seed)
    if name == "mlp":
        return (mg.gan.conditional_generator(latent_dim=100, num_classes=10, rng=rng),
                mg.gan.conditional_discriminator(num_classes=10, rng=rng))
    return (mg.gan.conditional_dcgan_generator(latent_dim=100, num_classes=10, rng=rng),
            mg.gan.conditional_dcgan_discriminator(num_classes=10, rng=rng))


models = ["mlp", "dcgan"] if args.model == "both" else [args.model]
for name in models:
    G, D = make_models(name, args.seed)
    print(f"{name}: G {sum(p.data.size for p in G.parameters()):,} parameters, "
          f"D {sum(p.data.size for p in D.parameters()):,} parameters")

# %% [markdown]
# ## 3. Training
#
# Each model gets its own ``Batches`` with the same seed: the same data order.
# ``trainer.step(x, y)``: the D step scores real images with their true labels and fakes
# made for random labels (with those labels); the G step makes fakes for random labels
# and follows D's gradient through the frozen D.

# %%
def train(name):
    G, D = make_models(name, args.seed)
    trainer = mg.gan.Trainer(G, D, loss="non-saturating", lr_d=2e-4, lr_g=2e-4,
                             betas=(0.5, 0.999), real_label=0.9, d_steps=1, seed=args.seed)
    batches = mg.data.Batches(images, labels, batch_size=args.batch_size, seed=args.seed)
    epochs = args.epochs if name == "mlp" else args.dcgan_epochs
    total = epochs * len(batches) if args.steps is None else args.steps
    log_every = max(1, total // 20)
    records = []
    started = time.time()
    while trainer.step_count < total:
        for x, y in batches:
            stats = trainer.step(x, y)
            records.append(stats)
            step = stats["step"]
            if step % log_every == 0 or step == total:
                rate = (time.time() - started) / step
                print(f"{name} step {step:5d}/{total}  loss_D {stats['loss_d']:.3f}  "
                      f"loss_G {stats['loss_g']:.3f}  D(x|y) {stats['d_real']:.2f}  "
                      f"D(G(z|y)|y) {stats['d_fake']:.2f}  {1000 * rate:.0f} ms/step  "
                      f"ETA {rate * (total - step):.0f} s", flush=True)
            if step >= total:
                break
    seconds = time.time() - started
    print(f"{name}: trained {trainer.step_count} steps in {seconds:.0f} s")
    return trainer, records, seconds


# %% [markdown]
# ## 4. One row per digit
#
# Row r asks for digit r. Every **column** uses the same noise z, so along a column only
# the label changes: if the model separates *what* (the label) from *how* (the noise:
# slant, thickness, style), a column shows one handwriting writing ten digits.

# %%
def draw(name, trainer, records):
    suffix = "" if name == "mlp" else f"_{name}"
    z_column = mg.backend.default_rng(args.seed + 1).standard_normal((10, 100), dtype="float32")
    z_grid = np.tile(z_column, (10, 1))        # (100, 100): row r, column c -> z_column[c]
    y_grid = np.repeat(np.arange(10), 10)       # (100,): row r asks for digit r
    title = {"mlp": "MLP", "dcgan": "conditional DCGAN"}[name]
    mg.plots.save_image_grid(trainer.sample(100, z=z_grid, labels=y_grid),
                             os.path.join(args.out, f"samples_by_class{suffix}.png"), columns=10,
                             title=f"{title}: rows ask for digits 0-9; columns: same z "
                                   f"({trainer.step_count} steps)")
    mg.plots.plot_training_curves(records, os.path.join(args.out, f"curves{suffix}.png"))
    print(f"wrote {args.out}/samples_by_class{suffix}.png and {args.out}/curves{suffix}.png")


# %% [markdown]
# ## 5. Did we get the digits we asked for?
#
# We ask for ``eval_n`` digits, the same number of each class, and let the shipped MNIST
# classifier (98% confident on real held-out digits) read them. **Accuracy** is the
# fraction whose predicted class is the requested label: 10% is chance (labels ignored).
# The Fréchet distance to the held-out digits, the class histogram, precision, recall
# and the copy fraction are the same numbers as for the other examples
# (``mg.metrics.heldout_report``).

# %%
def score(name, trainer, seconds):
    eval_rng = mg.backend.default_rng(10_000 + args.seed)
    requested = np.arange(args.eval_n) % 10
    z = eval_rng.standard_normal((args.eval_n, 100), dtype="float32")
    fake = mg.backend.to_numpy(trainer.sample(args.eval_n, z=z, labels=requested))
    _, probabilities = mg.metrics.classifier_outputs(fake)
    predicted = probabilities.argmax(axis=1)
    accuracy = float((predicted == requested).mean())
    per_class = [float((predicted[requested == k] == k).mean()) for k in range(10)]
    print(f"{name}: classifier accuracy of generated digits vs requested labels: "
          f"{accuracy:.3f} ({args.eval_n} samples; chance 0.100)")
    print("per requested digit: " + "  ".join(f"{k}: {a:.2f}" for k, a in enumerate(per_class)))
    result = mg.metrics.heldout_report(fake, mg.data.to_unit_range(images),
                                       mg.data.to_unit_range(heldout))
    print(mg.metrics.format_report(result))
    print(mg.metrics.format_heldout_report(result))
    result.update(conditional_accuracy=accuracy, accuracy_per_class=per_class,
                  steps=trainer.step_count, train_seconds=round(seconds, 1),
                  batch_size=args.batch_size, seed=args.seed)
    return result


# %% [markdown]
# ## 6. Both models, side by side
#
# Each model trains, draws its grid and is scored. ``results.json`` holds both results,
# under "mlp" and "dcgan".

# %%
results = {}
for name in models:
    trainer, records, seconds = train(name)
    draw(name, trainer, records)
    results[name] = score(name, trainer, seconds)
for name, result in results.items():
    print(f"{name:6s} accuracy {result['conditional_accuracy']:.3f}  "
          f"FD {result['frechet_distance']:.1f}  {result['steps']} steps in "
          f"{result['train_seconds']:.0f} s")
with open(os.path.join(args.out, "results.json"), "w") as file:
    json.dump(results, file, indent=2)
