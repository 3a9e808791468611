"""Pictures of a run: sample grids and training curves (matplotlib, headless).

Arrays are brought to the host here (``backend.to_numpy``): plots are an edge of
the library, like data loading and checkpoints.

Every picture is written to a file. As a script (or on a server) matplotlib runs headless,
with the Agg backend; inside a Jupyter kernel (``inside_notebook()``) the kernel's own
backend is kept and ``save_figure`` also shows each figure inline, below the cell.
"""

import math
import os
import sys

import matplotlib


def inside_notebook():
    """True inside a Jupyter (IPython) kernel, where figures can be shown inline; False
    in a script, a terminal IPython, or anywhere IPython is not even imported."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython,
                                                                      "get_ipython") else None
    return shell is not None and getattr(shell, "kernel", None) is not None


if not inside_notebook():
    matplotlib.use("Agg")  # headless: no display needed, also on a server
import matplotlib.pyplot as plt  # noqa: E402
import numpy  # noqa: E402

from . import backend  # noqa: E402
from .atomic import atomic_write  # noqa: E402
from .errors import NonFiniteError, ShapeError  # noqa: E402


def save_figure(figure, path, **options):
    """``figure.savefig(path, **options)`` written atomically (a temporary file renamed
    over ``path``), so a kill during the write leaves the old picture, never half a file;
    the format comes from the extension (PNG without one). In a notebook the figure is
    also shown inline. The figure is closed."""
    kind = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    try:
        with atomic_write(path) as file:
            figure.savefig(file, format=kind, **options)
        if inside_notebook():  # a PNG is shown from its file: no second rendering
            from IPython.display import Image, display

            display(Image(filename=os.fspath(path)) if kind == "png" else figure)
    finally:
        plt.close(figure)


def image_grid(images, columns=None, padding=2):
    """Tile images (N, H, W, 1) or (N, H, W) in [-1, 1] into one (rows*H, cols*W) array in
    [0, 1], with ``padding`` pixels of background between tiles. No images, or images
    holding NaN or infinite values (which would show as a silently white grid), are
    refused (``ShapeError``, ``NonFiniteError``)."""
    images = backend.to_numpy(images).astype(numpy.float32)
    if images.ndim == 4:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ShapeError(f"image_grid: expected at least one image, (N, H, W, 1) or (N, H, W) "
                         f"with N >= 1, got shape {images.shape}")
    finite = numpy.isfinite(images)
    if not finite.all():
        raise NonFiniteError(f"image_grid: {images.size - int(finite.sum())} of {images.size} "
                             "pixel values are NaN or infinite (a generator whose output is not "
                             "finite)")
    n, h, w = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = numpy.ones((rows * (h + padding) + padding, columns * (w + padding) + padding),
                      dtype=numpy.float32)
    for i, image in enumerate(images):  # a loop over tiles (<= a few hundred), not pixels
        r, c = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = (numpy.clip(image, -1, 1) + 1) / 2
    return grid


def save_image_grid(images, path, columns=None, title=None, row_labels=None):
    """Write a PNG grid of images in [-1, 1] (white = +1) to ``path``; a ``title`` (one or
    more lines) goes above it, the figure widened when the title is wider than the grid;
    ``row_labels`` (one string per row) are written left of the rows."""
    grid = image_grid(images, columns)
    lines = title.splitlines() if title else []
    top = 0.2 + 0.17 * len(lines) if lines else 0  # inches for the title
    left = 0.1 + 0.065 * max(map(len, row_labels)) if row_labels else 0  # for the labels
    width = max([grid.shape[1] / 40 + left] + [0.075 * len(line) + 0.2 for line in lines])
    figure = plt.figure(figsize=(width, grid.shape[0] / 40 + top), dpi=100)
    axes = figure.add_axes([left / width, 0, 1 - left / width, 1 - top / figure.get_figheight()])
    axes.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes.axis("off")
    if row_labels:
        row_height = grid.shape[0] / len(row_labels)  # rows of equal height, padding included
        for row, label in enumerate(row_labels):
            axes.text(-1, (row + 0.5) * row_height, label, ha="right", va="center",
                      fontsize=7, clip_on=False)
    if title:
        figure.suptitle(title, fontsize=9, y=0.995)
    save_figure(figure, path)
    return path


def _smooth(values, window):
    if len(values) < window or window < 2:
        return numpy.asarray(values, dtype=float)
    kernel = numpy.ones(window) / window
    return numpy.convolve(values, kernel, mode="valid")


def _legend_outside(axes):
    """The legend right of the axes, where it cannot cover a curve (a short run's curves
    fill every corner of the plot)."""
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize=8)


CRITIC_CURVES = [("grad_norm_x", "mean ||grad_x D|| (penalised)"),
                 ("wasserstein", "Wasserstein estimate D(x) - D(G(z))")]
"""What a gradient penalty or a WGAN critic adds to a step's record, for the third panel."""


def bce_equilibrium(real_label=1.0, fake_label=0.0):
    """Where a BCE-trained GAN's curves sit at the equilibrium p_g = p_data: D* =
    (real_label + fake_label) / 2 on every input, and loss_d = BCE(D*, real_label) +
    BCE(D*, fake_label) -- log 4 = 1.386 and D = 0.5 without label smoothing, 1.376 and
    0.45 with real_label 0.9. Returns {"loss_d": float, "d_output": float}, what
    ``plot_training_curves(..., equilibrium=...)`` draws."""
    import math

    for name, label in (("real_label", real_label), ("fake_label", fake_label)):
        if not 0.0 <= label <= 1.0:
            raise ValueError(f"bce_equilibrium: {name} must lie in [0, 1], got {label!r}")
    d = (real_label + fake_label) / 2
    if not 0.0 < d < 1.0:
        raise ValueError("bce_equilibrium: real_label + fake_label must lie in (0, 2), got "
                         f"{real_label!r} + {fake_label!r}")

    def bce(target):
        return -(target * math.log(d) + (1 - target) * math.log(1 - d))

    return {"loss_d": bce(real_label) + bce(fake_label), "d_output": d}


def plot_training_curves(records, path, smooth=None, equilibrium=None):
    """Plot losses (D, D real/fake parts, the gradient penalty if any, G) and mean D
    outputs per step to a PNG; with a gradient penalty or a WGAN critic, a third panel:
    the mean ||grad_x D|| and the Wasserstein estimate (the ``CRITIC_CURVES`` found in
    the records). Records of a growing run (with "resolution") get a dashed line where
    each new resolution begins to fade in.

    records: list of dicts as returned by ``Trainer.step`` (with "step").
    equilibrium: None, or ``bce_equilibrium(real_label, fake_label)`` for a BCE objective:
    dotted reference lines at the equilibrium's loss_d (log 4 unsmoothed) and D output (0.5).
    """
    steps = numpy.array([r["step"] for r in records])
    smooth = smooth or max(1, len(records) // 100)
    critic_curves = [(k, label) for k, label in CRITIC_CURVES if k in records[0]]
    panels = 3 if critic_curves else 2
    figure, axes = plt.subplots(panels, 1, figsize=(10, 3.5 * panels), sharex=True)
    losses, outputs = axes[0], axes[1]
    for key, label in [("loss_d", "loss D"), ("loss_d_real", "loss D (real)"),
                       ("loss_d_fake", "loss D (fake)"), ("penalty", "gradient penalty"),
                       ("loss_g", "loss G")]:
        if key not in records[0]:
            continue
        values = _smooth([r[key] for r in records], smooth)
        losses.plot(steps[len(steps) - len(values):], values, label=label,
                    linewidth=1.6 if key in ("loss_d", "loss_g") else 0.8)
    if equilibrium is not None:
        losses.axhline(equilibrium["loss_d"], color="k", linewidth=0.9, linestyle=":",
                       label=f"loss D at equilibrium ({equilibrium['loss_d']:.3f})")
    losses.set_ylabel("loss")
    _legend_outside(losses)
    losses.grid(alpha=0.3)
    for key, label in [("d_real", "D(x), real"), ("d_fake", "D(G(z)), fake")]:
        values = _smooth([r[key] for r in records], smooth)
        outputs.plot(steps[len(steps) - len(values):], values, label=label)
    if equilibrium is not None:
        outputs.axhline(equilibrium["d_output"], color="k", linewidth=0.9, linestyle=":",
                        label=f"D* at equilibrium ({equilibrium['d_output']:g})")
    outputs.set_ylabel("mean D output")
    _legend_outside(outputs)
    outputs.grid(alpha=0.3)
    if critic_curves:
        critic = axes[2]
        for key, label in critic_curves:
            values = _smooth([r[key] for r in records], smooth)
            critic.plot(steps[len(steps) - len(values):], values, label=label)
        if "grad_norm_x" in records[0]:
            critic.axhline(1.0, color="gray", linewidth=0.8, linestyle=":")
        critic.set_ylabel("critic")
        _legend_outside(critic)
        critic.grid(alpha=0.3)
    for record, previous in zip(records[1:], records):  # a growing run: where each stage began
        if record.get("resolution") != previous.get("resolution"):
            r = record["resolution"]
            for panel in axes:
                panel.axvline(record["step"], color="gray", linewidth=0.8, linestyle="--")
            losses.annotate(f"{r}x{r} fades in", (record["step"], 1), xycoords=("data",
                            "axes fraction"), xytext=(3, -12), textcoords="offset points",
                            fontsize=8, color="gray")
    axes[-1].set_xlabel("generator step")
    title = "training curves" + (f" (moving average over {smooth} steps)" if smooth > 1 else "")
    losses.set_title(title)
    figure.tight_layout()
    save_figure(figure, path, dpi=100)
    return path


def upsample_for_display(images, size):
    """Host images (N, R, R[, 1]) -> (N, size, size): each pixel repeated size // R times
    (nearest neighbour), so that small images show at the size of the large ones."""
    images = backend.to_numpy(images)
    if images.ndim == 4:
        images = images[..., 0]
    factor = size // images.shape[1]
    return images.repeat(factor, axis=1).repeat(factor, axis=2)


def save_growth_figure(rows, path, size=28, title=None):
    """One row of images per stage of a growing generator, each upsampled (nearest) to
    ``size`` for display: ``rows`` is a list of (label, images (N, R, R, 1) in [-1, 1]),
    the same N in every row (the same z, typically). Written to ``path`` (PNG)."""
    columns = len(rows[0][1])
    stacked = numpy.concatenate([upsample_for_display(images, size) for _, images in rows])
    grid = image_grid(stacked, columns=columns)
    height = grid.shape[0] / 40 + (0.4 if title else 0)
    figure = plt.figure(figsize=(grid.shape[1] / 40 + 1.3, height), dpi=100)
    left = 1.3 / figure.get_figwidth()
    axes = figure.add_axes([left, 0, 1 - left, 1 if not title else 1 - 0.4 / height])
    axes.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([2 + (size + 2) * i + size / 2 for i in range(len(rows))])
    axes.set_yticklabels([label for label, _ in rows], fontsize=8)
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.tick_params(length=0)
    if title:
        figure.suptitle(title, fontsize=9, y=0.995)
    save_figure(figure, path)
    return path
