# %% [markdown]
"""
# The GAN step by hand

The MNIST DCGAN trained without ``Trainer``: the D step on a real and a fake batch, then
the G step whose gradient reaches G *through* the frozen D -- written with nothing but
``layer(x)``, ``layer.backward(gy)``, the loss and the two optimizers, the way PyTorch's
``examples/dcgan/main.py`` loop reads. ``tests/gan/test_dcgan_by_hand.py`` checks that
``train_step`` below computes exactly what ``Trainer.step`` computes from the same weights
and noise (bit for bit: the same operations in the same order).

Run it as a script (``python examples/dcgan_by_hand.py [--quick] [--out DIR]``) or as a
notebook (``MINIGAN_QUICK=1`` or ``QUICK = True`` in the first cell for a short run).

Figures: samples.png, curves.png
"""

# %%
import argparse
import os
import time

import minigan as mg

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="Train the MNIST DCGAN with a handwritten loop.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: a few steps on small batches")
parser.add_argument("--out", default="runs/examples/dcgan_by_hand", help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--epochs", type=int, default=8, help="passes over the training set")
parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
if args.quick:
    args.steps, args.batch_size = args.steps or 12, 32
os.makedirs(args.out, exist_ok=True)
print(f"settings: {vars(args)}")

# %% [markdown]
# ## 1. Data, networks, optimizers
#
# As in ``mnist_dcgan.py``: NHWC batches in [-1, 1], the seed DCGAN pair, and one Adam per
# network with DCGAN's settings (lr 2e-4, betas (0.5, 0.999)).

# %%
images, _ = mg.data.load_mnist("train", path=args.data, embedded_fallback=True)
batches = mg.data.Batches(images, batch_size=args.batch_size, seed=args.seed)
rng = mg.backend.default_rng(args.seed)
G = mg.gan.dcgan_generator(latent_dim=100, rng=rng)
D = mg.gan.dcgan_discriminator(rng=rng)
opt_d = mg.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_g = mg.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
noise = mg.backend.default_rng(args.seed + 1)

# %% [markdown]
# ## 2. One step, every gradient in sight
#
# **D step.** G makes a fake batch (its forward only: G is not trained here). D sees the
# real batch and the fake batch separately -- its BatchNorm normalises each with its own
# statistics -- and each backward follows its forward, adding into D's ``.grad``. The real
# target is 0.9 (one-sided label smoothing). D's first layer needs no input gradient.
#
# **G step.** A new fake batch; the non-saturating loss BCE(D(G(z)), 1) = mean -log D(G(z)).
# D is *frozen*: ``D.freeze()`` makes its backward skip the weight gradients, but it still
# returns dL/dx -- the gradient that reaches G. D stays in training mode (frozen never means
# eval). ``G.zero_grad()``, ``G.backward``, one Adam step on G.

# %%
def train_step(G, D, opt_d, opt_g, real, z_d, z_g, real_label=0.9):
    F, bce = mg.functional, mg.losses.BCEWithLogits()
    with mg.engine.region():                         # the CPU engine's threads, as Trainer's
        # D step: a real and a fake batch through D; no gradient reaches G
        fake = G(z_d)
        D.zero_grad()
        out_real = D(real)
        loss_real = bce(out_real, real_label)
        D.backward(bce.backward(), need_input_grad=False)
        out_fake = D(fake)
        loss_fake = bce(out_fake, 0.0)
        D.backward(bce.backward(), need_input_grad=False)
        opt_d.step()
        # G step: the gradient reaches G through the frozen D
        fake = G(z_g)
        D.freeze()                                   # no weight gradients for D...
        loss_g = bce(D(fake), 1.0)                   # non-saturating: -log D(G(z))
        grad_fake = D.backward(bce.backward())       # ...but dL/dx passes through it
        D.unfreeze()
        G.zero_grad()
        G.backward(grad_fake, need_input_grad=False)
        opt_g.step()
    return {"loss_d": loss_real + loss_fake, "loss_d_real": loss_real, "loss_d_fake": loss_fake,
            "loss_g": loss_g, "d_real": float(F.sigmoid_forward(out_real)[0].mean()),
            "d_fake": float(F.sigmoid_forward(out_fake)[0].mean())}


# %% [markdown]
# ## 3. The loop

# %%
total = args.epochs * len(batches) if args.steps is None else args.steps
records, started = [], time.time()
while len(records) < total:
    for real, _ in batches:
        z_d = noise.standard_normal((len(real), 100), dtype="float32")
        z_g = noise.standard_normal((len(real), 100), dtype="float32")
        stats = train_step(G, D, opt_d, opt_g, real, z_d, z_g)
        records.append({**stats, "step": len(records) + 1})
        if len(records) % max(1, total // 10) == 0:
            print(f"step {len(records):4d}/{total}  loss_D {stats['loss_d']:.3f}  "
                  f"loss_G {stats['loss_g']:.3f}  D(x) {stats['d_real']:.2f}  "
                  f"D(G(z)) {stats['d_fake']:.2f}", flush=True)
        if len(records) >= total:
            break
print(f"trained {len(records)} steps in {time.time() - started:.0f} s")

# %% [markdown]
# ## 4. Samples and curves
#
# Samples come from G in eval mode (BatchNorm's running statistics), which is switched
# back to training mode afterwards.

# %%
G.eval()
samples = G(mg.backend.default_rng(args.seed + 2).standard_normal((64, 100), dtype="float32"))
G.train()
mg.plots.save_image_grid(samples, os.path.join(args.out, "samples.png"),
                         title=f"DCGAN by hand, {len(records)} steps")
mg.plots.plot_training_curves(records, os.path.join(args.out, "curves.png"))
print(f"wrote {args.out}/samples.png and {args.out}/curves.png")
