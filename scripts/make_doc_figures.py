#!/usr/bin/env python
"""Draw the documentation's figures of the transposed convolution: as an adjoint, and
the kernel taps each of its output pixels receives (the edge artefact).

Usage (from the repository root)::

    python scripts/make_doc_figures.py            # writes docs/figures/conv_transpose_adjoint.png
                                                  # and docs/figures/conv_transpose_taps.png
    python scripts/make_doc_figures.py --out DIR

``conv_transpose_taps.png``: the DCGAN's transposed convolutions (kernel 5, stride 2,
padding 2, output_padding 1: 7 -> 14 and 14 -> 28; the same map is D's first Conv2d's
input gradient, 28 -> 14 backwards) applied to an all-ones input with an all-ones
kernel: each output pixel's value is the number of kernel taps that reach it. The
interior alternates 3, 2, 3, 2 per axis (9, 6 or 4 taps in 2-D); the last row and column
get 2 then 1 per axis, and the bottom-right pixel a single tap.

The matrices are not drawn by hand: they are *measured* from minigan's functional core.
A 1-D strided convolution (an image of height 1: x (1, 1, L, 1), weight (1, K, 1, 1))
is a linear map x -> y = C x; column j of C is ``conv2d_forward`` of the j-th unit
vector. Likewise column j of the transposed convolution's matrix T is
``conv_transpose2d_forward`` of the j-th unit vector. The script checks T == C^T
exactly (no tolerance), then draws C, C^T, and C^T's rows split by phase. Read by
columns, C^T is col2im of a product, which is how ``minigan/functional/conv.py`` and
``conv_transpose.py`` compute it (one matrix product, then one slice-add per tap:
``col2im`` in ``minigan/engine/unfold.py``). Read by phases, it is the sub-pixel
view: S interleaved stride-1 correlations, a way to understand the sum, not a code path.
The kernel taps are w = (1, 2, 3, 4, 5), so every non-zero entry names the tap it came
from.

The geometry is the DCGAN's (kernel 5, stride 2, padding 2; output_padding 1 for the
transposed convolution), in 1-D with 8 input pixels: conv 8 -> 4, transposed 4 -> 8.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from minigan import backend  # noqa: E402
from minigan.functional import conv2d_forward, conv_transpose2d_forward  # noqa: E402

LENGTH, KERNEL, STRIDE, PADDING, OUTPUT_PADDING = 8, 5, 2, 2, 1
TAPS = np.arange(1.0, KERNEL + 1)  # w_k = k + 1: an entry's value names its tap
COLORS = ["#ffffff", "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1"]


def conv_matrix():
    """C (OUT, LENGTH) with conv(x) = C x, one column per unit input vector."""
    w = TAPS.reshape(1, KERNEL, 1, 1)  # (KH, KW, C_in, C_out)
    columns = []
    for j in range(LENGTH):
        x = np.zeros((1, 1, LENGTH, 1))
        x[0, 0, j, 0] = 1.0
        y, _ = conv2d_forward(x, w, None, stride=(1, STRIDE), padding=(0, PADDING))
        columns.append(y[0, 0, :, 0])
    return np.stack(columns, axis=1)


def conv_transpose_matrix(out_len):
    """T (LENGTH, OUT) with conv_transpose(g) = T g, same weight, stride and padding."""
    w = TAPS.reshape(1, KERNEL, 1, 1)  # (KH, KW, C_out, C_in) of the transposed conv
    columns = []
    for j in range(out_len):
        g = np.zeros((1, 1, out_len, 1))
        g[0, 0, j, 0] = 1.0
        x, _ = conv_transpose2d_forward(g, w, None, stride=(1, STRIDE), padding=(0, PADDING),
                                        output_padding=(0, OUTPUT_PADDING))
        columns.append(x[0, 0, :, 0])
    return np.stack(columns, axis=1)


def draw_matrix(axes, matrix, title, row_labels, col_labels):
    cmap = ListedColormap(COLORS)
    axes.imshow(matrix, cmap=cmap, vmin=-0.5, vmax=KERNEL + 0.5, aspect="equal")
    for (r, c), value in np.ndenumerate(matrix):
        if value:
            axes.text(c, r, f"$w_{int(value) - 1}$", ha="center", va="center", fontsize=10,
                      color="white", fontweight="bold")
    axes.set_xticks(range(matrix.shape[1]), col_labels, fontsize=8)
    axes.set_yticks(range(matrix.shape[0]), row_labels, fontsize=8)
    axes.set_xticks(np.arange(-0.5, matrix.shape[1]), minor=True)
    axes.set_yticks(np.arange(-0.5, matrix.shape[0]), minor=True)
    axes.grid(which="minor", color="#999999", linewidth=0.6)
    axes.tick_params(which="minor", length=0)
    axes.set_title(title, fontsize=10)


def make_figure(path):
    backend.use("numpy")
    c = conv_matrix()
    out_len = c.shape[0]
    t = conv_transpose_matrix(out_len)
    if not np.array_equal(t, c.T):
        raise AssertionError("conv_transpose2d is not the transpose of conv2d:\n"
                             f"C^T =\n{c.T}\nT =\n{t}")
    x_labels = [f"$x_{i}$" for i in range(LENGTH)]
    y_labels = [f"$y_{o}$" for o in range(out_len)]
    g_labels = [f"$g_{o}$" for o in range(out_len)]

    figure = plt.figure(figsize=(14, 8.2))
    grid = figure.add_gridspec(2, 4, height_ratios=[3.2, 1.5], width_ratios=[8, 4, 4, 4],
                               left=0.04, right=0.99, top=0.88, bottom=0.02, wspace=0.35,
                               hspace=0.12)
    ax_c = figure.add_subplot(grid[0, 0])
    ax_t = figure.add_subplot(grid[0, 1])
    draw_matrix(ax_c, c, "(a) Conv2d as a matrix: $y = C\\,x$\n"
                f"kernel {KERNEL}, stride {STRIDE}, padding {PADDING}: "
                f"{LENGTH} $\\to$ {out_len}", y_labels, x_labels)
    draw_matrix(ax_t, t, "(b) ConvTranspose2d: $x' = C^{\\top} g$\n"
                f"same $w$, output_padding {OUTPUT_PADDING}: {out_len} $\\to$ {LENGTH}",
                x_labels, g_labels)
    ax_c.set_anchor("N")
    ax_t.set_anchor("N")

    # (c) the phase decomposition: x row i belongs to phase (i + p) % s
    for r in range(STRIDE):
        rows = [i for i in range(LENGTH) if (i + PADDING) % STRIDE == r]
        axes = figure.add_subplot(grid[0, 2 + r])
        taps = TAPS[r::STRIDE][::-1]
        draw_matrix(axes, t[rows], f"(c{r + 1}) phase {r} of $C^{{\\top}}$: rows $i$ with\n"
                    f"$(i + p)$ mod $s = {r}$; taps "
                    + ", ".join(f"$w_{int(v) - 1}$" for v in taps),
                    [x_labels[i] for i in rows], g_labels)
        axes.set_anchor("N")

    note = figure.add_subplot(grid[1, :])
    note.axis("off")
    lines = [
        "Each coloured entry is one kernel tap $w_k$ = weight[0, k]; blank entries are 0. "
        "The matrices are measured from minigan.functional on unit vectors, not drawn by hand.",
        "(a) Row $o$ of $C$ is the kernel placed at input position $o\\cdot s - p$: a band "
        "that moves $s = 2$ columns per row (taps that fall on the zero padding are cut off).",
        "(b) conv_transpose2d_forward gives exactly $C^{\\top}$ (the script checks T == C.T "
        "bit for bit): the same weights read down the columns. So ConvTranspose2d(g) is "
        "Conv2d's dL/dx for dL/dy = g.",
        "     Read column by column, $C^{\\top}$ is col2im: column $o$ adds the kernel, "
        "scaled by $g_o$, at $o\\cdot s - p$ (minigan's col2im: one matrix product, then one "
        "slice-add per tap).",
        "(c) Read row by row, split by output phase: each phase is a plain stride-1 "
        "correlation of $g$ with the flipped sub-kernel $w[r::s]$ (the sub-pixel view: the "
        "same sum, grouped by phase).",
    ]
    note.text(0.0, 1.0, "\n".join(lines), va="top", ha="left", fontsize=10, linespacing=1.7,
              transform=note.transAxes)
    figure.suptitle("The transposed convolution is the adjoint (transpose) of the convolution "
                    "(1-D, DCGAN geometry: kernel 5, stride 2, padding 2)", fontsize=13)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def tap_counts(size_in):
    """Taps per output pixel of the DCGAN's ConvTranspose2d on a size_in x size_in input."""
    ones = np.ones((1, size_in, size_in, 1))
    counts, _ = conv_transpose2d_forward(ones, np.ones((KERNEL, KERNEL, 1, 1)), None,
                                         stride=(STRIDE, STRIDE), padding=(PADDING, PADDING),
                                         output_padding=(OUTPUT_PADDING, OUTPUT_PADDING))
    return counts[0, :, :, 0]


def make_taps_figure(path):
    backend.use("numpy")
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.8),
                                gridspec_kw={"width_ratios": [1, 1, 1.25]})
    for ax, size_in in zip(axes[:2], (7, 14)):
        counts = tap_counts(size_in)
        image = ax.imshow(counts, cmap="viridis", vmin=0, vmax=9)
        ax.set_title(f"ConvTranspose2d {size_in}x{size_in} -> {counts.shape[0]}x"
                     f"{counts.shape[1]}:\ntaps per output pixel", fontsize=10)
        if size_in == 7:
            for (r, c), value in np.ndenumerate(counts):
                ax.text(c, r, f"{int(value)}", ha="center", va="center", fontsize=7,
                        color="white" if value < 6 else "black")
    figure.colorbar(image, ax=axes[1], fraction=0.046)
    row = tap_counts(14)[27]        # the last row has 1 tap along its axis: the 1-D pattern
    axes[2].bar(range(len(row)), row, color=["#e15759" if i >= 26 else "#4e79a7"
                                               for i in range(len(row))])
    axes[2].set_xlabel("column of the 28x28 output (its last row, 27)")
    axes[2].set_ylabel("taps")
    axes[2].set_title("one row: 2, 2, 3, 2, 3, ..., 3, 2, 2, 1", fontsize=10)
    figure.suptitle("Kernel 5, stride 2, padding 2, output_padding 1: the last row and "
                    "column receive fewer kernel taps (the bottom-right pixel: 1)",
                    fontsize=12)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    parser.add_argument("--out", default=os.path.join(root, "docs", "figures"),
                        help="directory for the PNG files")
    args = parser.parse_args(argv)
    for path in (make_figure(os.path.join(args.out, "conv_transpose_adjoint.png")),
                 make_taps_figure(os.path.join(args.out, "conv_transpose_taps.png"))):
        print(f"wrote {os.path.normpath(path)}")
    counts = tap_counts(14)
    print(f"taps per output pixel, 14 -> 28: interior {sorted(set(counts[2:26, 2:26].ravel()))}"
          f", last row {counts[27].astype(int).tolist()}, corner {int(counts[27, 27])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
