#!/usr/bin/env python
"""Draw the documentation's two diagrams: the GAN step and the DCGAN's feature maps.

Usage (from the repository root)::

    python scripts/make_diagrams.py            # writes docs/figures/gan_step.png and
                                               # docs/figures/dcgan_architecture.png
    python scripts/make_diagrams.py --out DIR

``gan_step.png``: the D step and the G step side by side -- which network is updated,
which is frozen, and the path the gradient takes back from the loss (in the G step it
goes *through* the frozen D into G). ``dcgan_architecture.png``: the MNIST DCGAN's
generator and discriminator, every layer with the shape of what it outputs; the shapes
are measured by running ``dcgan_generator()`` and ``dcgan_discriminator()`` on a batch,
not typed in.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

import minigan as mg  # noqa: E402

UPDATED, FROZEN, DATA = "#59a14f", "#bab0ac", "#4e79a7"
FORWARD, BACKWARD = "#333333", "#e15759"


def box(ax, xy, text, color, width=1.5, height=0.8):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05", facecolor=color, alpha=0.85,
                                edgecolor="#333333"))
    ax.text(x, y, text, ha="center", va="center", fontsize=10, color="white",
            fontweight="bold")


def arrow(ax, start, end, color=FORWARD, style="-|>", dashed=False, rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14,
                                 color=color, linewidth=2 if dashed else 1.4,
                                 linestyle="--" if dashed else "-",
                                 connectionstyle=f"arc3,rad={rad}"))


def gan_step(path):
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2))
    for ax, which in zip(axes, ("D", "G")):
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 4.3)
        ax.axis("off")
        g_color = UPDATED if which == "G" else FROZEN
        d_color = UPDATED if which == "D" else FROZEN
        box(ax, (0.8, 1.5), "z ~ N(0, I)", DATA)
        box(ax, (3.0, 1.5), "G" + (" (updated)" if which == "G" else " (no backward)"),
            g_color, width=2.0)
        box(ax, (5.2, 1.5), "G(z)", DATA, width=1.1)
        if which == "D":
            box(ax, (5.2, 3.6), "x real", DATA, width=1.1)
        box(ax, (7.2, 2.5), "D" + (" (updated)" if which == "D" else " (frozen)"),
            d_color, width=1.9)
        box(ax, (9.2, 2.5), "loss", "#f28e2b", width=1.1)
        arrow(ax, (1.55, 1.5), (2.0, 1.5))
        arrow(ax, (4.0, 1.5), (4.65, 1.5))
        arrow(ax, (5.75, 1.6), (6.25, 2.3))
        if which == "D":
            arrow(ax, (5.75, 3.5), (6.25, 2.7))
        arrow(ax, (8.15, 2.5), (8.65, 2.5))
        # the gradient path, dashed red, back from the loss
        arrow(ax, (8.65, 2.2), (8.15, 2.2), BACKWARD, dashed=True)
        if which == "D":
            ax.text(7.4, 0.3, "dL_D/dθ_D: D's weights get gradients\n"
                    "from the real and the fake batch\nG(z) is an input: nothing flows "
                    "into G", ha="center", fontsize=9, color=BACKWARD)
            title = ("D step: loss_D = BCE(D(x), 0.9) + BCE(D(G(z)), 0)\n"
                     "backward through D only; D's optimizer steps")
        else:
            arrow(ax, (6.25, 2.1), (5.75, 1.3), BACKWARD, dashed=True)
            arrow(ax, (4.65, 1.25), (4.0, 1.25), BACKWARD, dashed=True)
            ax.text(7.2, 0.55, "dL_G/dx through D.backward:\nD's weight gradients "
                    "are skipped,\nD stays in training mode", ha="center", fontsize=9,
                    color=BACKWARD)
            ax.text(3.0, 0.35, "G.backward(dL_G/dG(z)); G's optimizer steps", ha="center",
                    fontsize=9, color=BACKWARD)
            title = ("G step: loss_G = BCE(D(G(z')), 1) (non-saturating)\n"
                     "the gradient reaches G through the frozen D")
        ax.set_title(title, fontsize=11)
    handles = [plt.Line2D([], [], color=FORWARD, label="forward"),
               plt.Line2D([], [], color=BACKWARD, linestyle="--", linewidth=2,
                          label="gradient (backward)"),
               plt.Rectangle((0, 0), 1, 1, color=UPDATED, label="updated this step"),
               plt.Rectangle((0, 0), 1, 1, color=FROZEN, label="not updated")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9)
    fig.suptitle("One GAN step, as minigan's Trainer.step does it", fontsize=13)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def layer_shapes(model, x):
    """[(layer description, output shape without the batch axis)] from a real forward."""
    shapes = []
    for layer in model:
        x = layer(x)
        name = type(layer).__name__
        if hasattr(layer, "kernel_size"):
            name += f" {layer.kernel_size[0]}x{layer.kernel_size[1]}, stride {layer.stride[0]}"
        shapes.append((name, tuple(x.shape[1:])))
    return shapes


def draw_column(ax, x0, title, input_shape, shapes, color):
    ax.text(x0, 9.6, title, ha="center", fontsize=12, fontweight="bold")
    rows = [("input", input_shape)] + shapes
    for i, (name, shape) in enumerate(rows):
        y = 9.0 - i * 1.05
        size = " × ".join(str(s) for s in shape)
        ax.add_patch(FancyBboxPatch((x0 - 1.9, y - 0.38), 3.8, 0.76, boxstyle="round,pad=0.03",
                                    facecolor=color if i else DATA, alpha=0.8,
                                    edgecolor="#333333"))
        ax.text(x0, y, f"{name}  →  {size}" if i else f"{name}: {size}", ha="center",
                va="center", fontsize=9.5, color="white", fontweight="bold")
        if i < len(rows) - 1:
            arrow(ax, (x0, y - 0.4), (x0, y - 0.63))


def dcgan_architecture(path):
    mg.backend.use("numpy")
    G = mg.gan.dcgan_generator(rng=mg.backend.default_rng(0))
    D = mg.gan.dcgan_discriminator(rng=mg.backend.default_rng(0))
    z = np.zeros((2, 100), dtype="float32")
    g_shapes = layer_shapes(G, z)
    d_shapes = layer_shapes(D, np.zeros((2, 28, 28, 1), dtype="float32"))
    n_g = sum(p.data.size for p in G.parameters())
    n_d = sum(p.data.size for p in D.parameters())
    fig, ax = plt.subplots(figsize=(12, 8))
    ax.set_xlim(0, 10)
    ax.set_ylim(0.0, 10)
    ax.axis("off")
    draw_column(ax, 2.4, f"generator ({n_g:,} parameters)", (100,), g_shapes, "#f28e2b")
    draw_column(ax, 7.6, f"discriminator ({n_d:,} parameters)", (28, 28, 1), d_shapes,
                "#b07aa1")
    ax.text(5.0, 0.35, "Shapes per sample (NHWC), measured by a forward pass. Note: the "
            "generator has no nonlinearity between its Dense and its first ConvTranspose2d "
            "(Reshape is not one).", ha="center", fontsize=9, wrap=True)
    fig.suptitle("The MNIST DCGAN (mg.gan.dcgan_generator, mg.gan.dcgan_discriminator)",
                 fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return g_shapes, d_shapes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    parser.add_argument("--out", default=os.path.join(root, "docs", "figures"),
                        help="directory for the PNG files")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    gan_step(os.path.join(args.out, "gan_step.png"))
    g_shapes, d_shapes = dcgan_architecture(os.path.join(args.out, "dcgan_architecture.png"))
    print("G:", g_shapes)
    print("D:", d_shapes)
    print(f"wrote gan_step.png and dcgan_architecture.png in {os.path.normpath(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
