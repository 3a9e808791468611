# %% [markdown]
"""
# Backprop through the discriminator, layer by layer

The generator never sees a loss of its own. In the G step the loss is computed on D's
logit, and its gradient travels **back through the frozen discriminator** -- Dense,
LeakyReLU, BatchNorm, Conv2d, ... -- until it comes out of D's first layer as an image:
dLoss/dG(z), one gradient value per pixel of each generated sample. Only then does it
enter G. Autograd hides this path; here we record it with ``minigan.inspect``:

- every layer's output and the gradient flowing back into it, for the D step (real and
  fake passes) and the G step, from one ordinary ``trainer.step`` (the record changes
  nothing: the weights after a recorded step are bit-identical);
- the gradient image dLoss/dG(z) next to the samples it belongs to;
- the saliency map dD/dx of D for real and generated images.

Run it as a script (``python examples/backprop_through_d.py [--quick] [--out DIR]``) or
open it as a notebook (Jupytext / VS Code "percent" cells).

Figures: gradient_norms.png, gradient_images.png, saliency.png
"""

# %%
import argparse
import copy
import os
import time

import numpy as np

import minigan as mg
from minigan.inspect import inspect_step, saliency
from minigan.inspect.plots import plot_gradient_images, plot_gradient_norms, plot_saliency

QUICK = os.environ.get("MINIGAN_QUICK") == "1"  # True: a short run, as --quick

parser = argparse.ArgumentParser(
    description="Record one GAN step layer by layer.", allow_abbrev=False)
parser.add_argument("--quick", action="store_true", default=QUICK,
                    help="CI mode: a few small steps")
parser.add_argument("--out", default="runs/examples/backprop_through_d",
                    help="folder for figures")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--steps", type=int, default=250,
                    help="ordinary training steps before the recorded one")
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--data", default=None, help="folder holding the MNIST IDX files")
args, _ = parser.parse_known_args()  # a notebook kernel passes its own arguments
if args.quick:
    args.steps, args.batch_size = 4, 16
os.makedirs(args.out, exist_ok=True)
print(f"settings: {vars(args)}")

# %% [markdown]
# ## 1. The MNIST DCGAN, trained for a little while
#
# At step 0 both networks are random. After 250 steps (about two minutes on two cores)
# G draws digit-like strokes and D is not yet winning by far: a typical early-training
# state to look inside. (Without MNIST files on disk, the 5,000 embedded digits.)

# %%
images, _ = mg.data.load_mnist("train", path=args.data, download=False,
                               embedded_fallback=True)
batches = mg.data.Batches(images, None, batch_size=args.batch_size, seed=args.seed)
rng = mg.backend.default_rng(args.seed)
G = mg.gan.dcgan_generator(latent_dim=100, rng=rng)
D = mg.gan.dcgan_discriminator(rng=rng)
# DCGAN's defaults (Radford et al. 2016)
trainer = mg.gan.Trainer(G, D, loss="non-saturating", seed=args.seed)
started = time.time()
batch_iter = iter(batches)


def next_batch():
    global batch_iter
    try:
        return next(batch_iter)[0]
    except StopIteration:
        batch_iter = iter(batches)
        return next(batch_iter)[0]


for _ in range(args.steps):
    stats = trainer.step(next_batch())
    if stats["step"] % max(1, args.steps // 5) == 0:
        print(f"step {stats['step']:4d}  loss_D {stats['loss_d']:.3f}  "
              f"loss_G {stats['loss_g']:.3f}  D(x) {stats['d_real']:.2f}  "
              f"D(G(z)) {stats['d_fake']:.2f}  ({time.time() - started:.0f} s)", flush=True)

# %% [markdown]
# ## 2. One step, recorded
#
# ``inspect_step(trainer, x)`` runs ``trainer.step(x)`` with a thin wrapper around every
# layer's ``forward`` and ``backward``. Each wrapper passes the arrays through untouched
# and keeps a host copy: the output y, the gradient dL/dy arriving at the layer and the
# dL/dx it passes on. The phases come from the order of the calls:
#
#     D step:  G(z) (forward only) | D(x_real) -> backward | D(G(z)) -> backward
#     G step:  G(z') -> D (frozen) -> dL/dlogit -> D.backward -> dL/dG(z') -> G.backward

# %%
x = next_batch()
record = inspect_step(trainer, x)
print("stats of the recorded step:",
      {k: round(v, 4) for k, v in record.stats.items() if isinstance(v, float)})
print("\nD step: ||dL_D/dy|| entering each D layer (whole batch)")
print(f"{'layer':<44} {'real pass':>11} {'fake pass':>11}")
for real_layer, fake_layer in zip(reversed(record.layers("d_real", "D")),
                                  reversed(record.layers("d_fake", "D"))):
    print(f"D[{real_layer.name}] {real_layer.layer[:40]:<40} "
          f"{real_layer.grad_output.norm:>11.3e} {fake_layer.grad_output.norm:>11.3e}")
print("\nG step: the gradient's path, ||.|| of what leaves each layer (whole batch)")
for label, tensor in record.g_path():
    print(f"  {label[:70]:<70} {tensor.norm:>10.3e}   shape {tensor.shape}")

# %% [markdown]
# ## 3. Is that really dLoss/dG(z)? Check it independently
#
# The G step did not change D's weights, so a copy of D (frozen, still in training mode)
# run on the recorded fakes must give the same logits, and ``D.backward`` of the
# objective's gradient must give the recorded gradient image.

# %%
D_copy = copy.deepcopy(trainer.D).freeze()
out = D_copy.forward(mg.backend.to_device(record.fake_images.array))
grad_logit = trainer.objective.g_loss(out)["grad_fake"]
grad_image = mg.backend.to_numpy(D_copy.backward(grad_logit))
difference = np.abs(grad_image - record.generator_gradient.array).max()
print(f"max |recorded dL/dG(z) - D.backward(dL/dlogit)| = {difference:.2e}")
d_fake = 1 / (1 + np.exp(-record.logits.array.ravel()))
print(f"D(G(z)) per sample: mean {d_fake.mean():.3f}, min {d_fake.min():.3f}, "
      f"max {d_fake.max():.3f}; dL/dlogit = (D - 1)/N, |.| mean "
      f"{np.abs(record.logit_gradient.array).mean():.2e} (N = {len(d_fake)})")

# %%
path = plot_gradient_norms(record, os.path.join(args.out, "gradient_norms.png"),
                           title=f"DCGAN on MNIST, step {record.stats['step']}: the norm of "
                                 "the gradient entering each layer")
print("wrote", path)

# %% [markdown]
# ## 4. The gradient image
#
# Row 1: the generated samples; row 2: minus the gradient image, -dLoss/dG(z): the
# direction in which the G step pushes every pixel (red brighter, blue darker). Samples
# that D already believes (D(G(z)) near 1) get a weak push: under the non-saturating
# loss dL/dlogit = (D(G(z)) - 1)/N. Row 3: the same after G's tanh, the gradient with
# respect to the tanh's input -- multiplied by 1 - y², it survives only where the pixel
# is not already saturated black or white.

# %%
tanh = record.layers("g", "G")[-1]  # G's last layer, the tanh: what passes its gate
path = plot_gradient_images(record.fake_images.array, record.generator_gradient.array,
                            os.path.join(args.out, "gradient_images.png"), n=8,
                            d_values=d_fake, inner=tanh.grad_input.array,
                            inner_label="after tanh:\n-dL/d(pre-tanh)")
kept = tanh.grad_input.norm / tanh.grad_output.norm
saturated = float((np.abs(record.fake_images.array) > 0.95).mean())
print(f"G's tanh passes on {kept:.0%} of the gradient image's norm: its derivative 1 - y² "
      f"is small where a pixel is saturated (|y| > 0.95 for {saturated:.0%} of the pixels)")
print("wrote", path)
pixel_norms = np.sqrt((record.generator_gradient.array ** 2).reshape(len(d_fake), -1).sum(1))
order = np.argsort(d_fake)
print("per-sample ||dL/dG(z)|| for the 3 least and 3 most convincing fakes:")
for i in list(order[:3]) + list(order[-3:]):
    print(f"  D(G(z)) {d_fake[i]:.3f}  ||dL/dG(z)|| {pixel_norms[i]:.3e}")

# %% [markdown]
# ## 5. Saliency: dD/dx for real and generated images
#
# The same backward pass with an upstream gradient of ones instead of the loss gradient:
# which pixels would raise D's logit (make the image look "more real" to D). D runs as in
# the trainer -- training mode, batch statistics -- frozen, and its running statistics
# are put back afterwards, so nothing in training changes.

# %%
fakes = mg.backend.to_device(record.fake_images.array)
real_saliency = saliency(trainer.D, x)
fake_saliency = saliency(trainer.D, fakes)
with mg.inspect.preserved(trainer.D):
    real_logits = mg.backend.to_numpy(trainer.D.forward(x)).ravel()
path = plot_saliency(x, real_saliency, fakes, fake_saliency,
                     os.path.join(args.out, "saliency.png"), n=6, real_logits=real_logits,
                     fake_logits=record.logits.array.ravel())
print("wrote", path)
cosines = []
for g, s in zip(record.generator_gradient.array, mg.backend.to_numpy(fake_saliency)):
    cosines.append(float(-(g.ravel() @ s.ravel()) / (np.linalg.norm(g) * np.linalg.norm(s))))
print(f"||dD/dx|| real {np.linalg.norm(mg.backend.to_numpy(real_saliency)):.3e}, "
      f"fake {np.linalg.norm(mg.backend.to_numpy(fake_saliency)):.3e}")
print(f"cosine(-dL/dG(z), dD/dx) per fake: mean {np.mean(cosines):.4f}, "
      f"min {np.min(cosines):.4f}")
# Without BatchNorm's coupling of the samples, -dL/dG(z)_i = (1 - D_i)/N * dD_i/dx_i
# exactly: the non-saturating G step climbs D's saliency, each sample weighted by how
# much D still rejects it. With batch statistics the weights mix a little across the
# batch, so the cosine can fall below 1 when the D_i differ a lot.
