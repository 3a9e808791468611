"""Pictures of a recorded step (``minigan.inspect``): PNG files, matplotlib headless.

- ``plot_gradient_norms(record, path)``: the norm of the gradient flowing back into every
  layer, D step (real and fake passes) next to the G step (through the frozen D, then G).
- ``plot_gradient_images(images, gradients, path)``: generated samples above the gradient
  image dLoss/dG(z) that the G step sends back to them.
- ``plot_saliency(real, real_saliency, fake, fake_saliency, path)``: dD/dx for real and
  generated images.
- ``write_step_report(record, directory, prefix, ...)``: the three figures and a JSON
  summary, as ``minigan train --inspect-every N`` writes them.

Arrays come to the host here (``backend.to_numpy``).
"""

import json
import os

import numpy

from .. import backend
from ..plots import plt, save_figure  # matplotlib, headless outside a notebook

_PHASE_STYLE = {"d_real": ("D step, real batch", "tab:blue", "o"),
                "d_fake": ("D step, fake batch", "tab:orange", "s"),
                "g": ("G step", "tab:green", "^")}


_SHORT = {"BatchNorm1d": "BN", "BatchNorm2d": "BN", "LeakyReLU": "LReLU",
          "ConvTranspose2d": "ConvT", "Conv2d": "Conv"}


def _short(layer):
    """'Conv2d(1, 64, ...)' -> 'Conv'."""
    name = layer.split("(")[0]
    return _SHORT.get(name, name)


def plot_gradient_norms(record, path, title=None):
    """Two panels, log scale, the norm of dL/dy entering each layer (y: the layer's
    output; whole batch). Left, the D step: D's layers, logit first, for the real and
    the fake pass. Right, the G step: dL_G/dlogit entering D's last layer, back through
    every frozen D layer, out of D as dL_G/dG(z) (the gradient image, entering G's last
    layer), and on through G."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8),
                                         gridspec_kw={"width_ratios": [1, 1.8]})
    for phase in ("d_real", "d_fake"):
        layers = list(reversed(record.layers(phase, "D")))
        label, color, marker = _PHASE_STYLE[phase]
        norms = [layer.grad_output.norm for layer in layers]
        left.plot(range(len(norms)), norms, marker=marker, color=color, label=label)
        left.set_xticks(range(len(norms)))
        left.set_xticklabels([f"D[{layer.name}]\n{_short(layer.layer)}" for layer in layers],
                             fontsize=7.5)
    left.set_yscale("log")
    left.set_title("D step: ||dL_D/dy|| entering each D layer (logit first)", fontsize=9)
    left.set_ylabel("gradient norm over the batch")
    left.legend(fontsize=8)
    left.grid(alpha=0.3, which="both")

    entries = [(network, layer) for network in ("D", "G")
               for layer in reversed(record.layers("g", network))]
    norms = [layer.grad_output.norm for _, layer in entries]
    xs = numpy.arange(len(entries))
    n_d = sum(1 for network, _ in entries if network == "D")
    right.plot(xs, norms, color="0.6", zorder=1)
    right.scatter(xs[:n_d], norms[:n_d], color="tab:red", zorder=2,
                  label="inside the frozen D (no weight gradients)")
    right.scatter(xs[n_d:], norms[n_d:], color="tab:green", zorder=2, label="inside G")
    right.scatter([0], [norms[0]], s=120, facecolors="none", edgecolors="k", zorder=3)
    right.annotate("dL_G/dlogit", (0, norms[0]), xytext=(8, -4), textcoords="offset points",
                   fontsize=8)
    if n_d < len(entries):
        right.scatter([n_d], [norms[n_d]], s=120, facecolors="none", edgecolors="k", zorder=3)
        right.annotate("dL_G/dG(z):\nthe gradient image", (n_d, norms[n_d]), xytext=(8, 6),
                       textcoords="offset points", fontsize=8)
        right.axvline(n_d - 0.5, color="k", linestyle="--", linewidth=1)
    right.set_xticks(xs)
    right.set_xticklabels([f"{network}[{layer.name}]\n{_short(layer.layer)}"
                           for network, layer in entries], fontsize=7.5)
    right.set_yscale("log")
    right.set_title("G step: ||dL_G/dy|| entering each layer, from D's logit back to G's "
                    "first layer", fontsize=9)
    right.legend(fontsize=8, loc="upper right")
    right.grid(alpha=0.3, which="both")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    save_figure(figure, path, dpi=100)
    return path


def _signed(axes, image, scale, cmap="RdBu_r"):
    shown = axes.imshow(image, cmap=cmap, vmin=-scale, vmax=scale, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    return shown


def _gray(axes, image):
    axes.imshow((numpy.clip(image, -1, 1) + 1) / 2, cmap="gray", vmin=0, vmax=1,
                interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])


def _host_images(array, n):
    host = numpy.asarray(backend.to_numpy(array), dtype=numpy.float64)[:n]
    return host[..., 0] if host.ndim == 4 else host


def plot_gradient_images(images, gradients, path, n=8, title=None, d_values=None,
                         inner=None, inner_label=None):
    """Row 1: G(z); row 2: -dL/dG(z), the direction the G step pushes each pixel (red:
    brighter, blue: darker; one colour scale per sample, its maximum printed). ``inner``
    (optional, same shape): a third row, e.g. minus the gradient after G's tanh
    (dL/d pre-activation), labelled ``inner_label``."""
    rows = [-_host_images(gradients, n)]
    labels = ["-dL/dG(z)"]
    if inner is not None:
        rows.append(-_host_images(inner, n))
        labels.append(inner_label or "inner")
    images = _host_images(images, n)
    n = len(images)
    figure, axes = plt.subplots(1 + len(rows), n, figsize=(1.45 * n, 1.7 * (1 + len(rows))),
                                squeeze=False)
    for i in range(n):
        _gray(axes[0, i], images[i])
        if d_values is not None:
            axes[0, i].set_title(f"D={d_values[i]:.2g}", fontsize=7)
        for r, push in enumerate(rows, start=1):
            scale = float(numpy.abs(push[i]).max()) or 1.0
            _signed(axes[r, i], push[i], scale)
            axes[r, i].set_xlabel(f"max {scale:.1e}", fontsize=7)
    axes[0, 0].set_ylabel("G(z)", fontsize=8)
    for r, label in enumerate(labels, start=1):
        axes[r, 0].set_ylabel(label, fontsize=8)
    figure.suptitle(title or "the gradient image: what the frozen D sends back to each "
                    "generated sample (red = make brighter)", fontsize=9)
    figure.tight_layout()
    save_figure(figure, path, dpi=100)
    return path


def plot_saliency(real, real_saliency, fake, fake_saliency, path, n=6, title=None,
                  real_logits=None, fake_logits=None):
    """Four rows: real images, their dD/dx, generated images, their dD/dx (red: raising
    the pixel makes D say "real" more; one symmetric scale shared by all maps, shown by
    the colour bar on the right)."""
    rows = [("real x", _host_images(real, n), real_logits), ("dD/dx", _host_images(
        real_saliency, n), None), ("G(z)", _host_images(fake, n), fake_logits),
        ("dD/dx", _host_images(fake_saliency, n), None)]
    n = min(len(rows[0][1]), len(rows[2][1]))
    scale = max(float(numpy.abs(rows[1][1][:n]).max()), float(numpy.abs(rows[3][1][:n]).max()))
    scale = scale or 1.0
    figure, axes = plt.subplots(4, n, figsize=(1.45 * n, 6.3), squeeze=False)
    for r, (label, arrays, logits) in enumerate(rows):
        for i in range(n):
            if r % 2 == 0:
                _gray(axes[r, i], arrays[i])
                if logits is not None:
                    axes[r, i].set_title(f"logit {float(logits[i]):.2f}", fontsize=7)
            else:
                shown = _signed(axes[r, i], arrays[i], scale)
        axes[r, 0].set_ylabel(label, fontsize=8)
    figure.suptitle(title or f"saliency dD/dx (D in training mode; colour scale ±{scale:.1e})",
                    fontsize=9)
    figure.tight_layout(rect=(0, 0, 0.85, 1))
    bar = figure.colorbar(shown, cax=figure.add_axes([0.87, 0.1, 0.02, 0.78]),
                          ticks=[-scale, 0, scale])
    bar.ax.set_yticklabels([f"-{scale:.1e}\nraising this\npixel lowers D", "0",
                            f"+{scale:.1e}\nraising this\npixel raises D"], fontsize=7)
    bar.set_label("dD/dx (D's logit)", fontsize=8)
    save_figure(figure, path, dpi=100)
    return path


def write_step_report(record, directory, prefix, real=None, D=None, labels=None, n=8):
    """``<prefix>_gradient_norms.png``, ``<prefix>_gradient_images.png``,
    ``<prefix>_saliency.png`` (when ``real`` and ``D`` are given) and ``<prefix>.json``
    (the record's summary) in ``directory``; returns the paths written."""
    from . import saliency

    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, prefix)
    step = (record.stats or {}).get("step")
    paths = [plot_gradient_norms(record, base + "_gradient_norms.png",
                                 title=f"gradient norms, step {step}"),
             plot_gradient_images(record.fake_images.array, record.generator_gradient.array,
                                  base + "_gradient_images.png", n=n,
                                  d_values=1 / (1 + numpy.exp(-record.logits.array.ravel())))]
    if real is not None and D is not None:
        fake = backend.to_device(record.fake_images.array)
        fake_labels = record.fake_labels
        paths.append(plot_saliency(real, saliency(D, real, labels), fake,
                                   saliency(D, fake, None if fake_labels is None
                                            else backend.to_device(fake_labels)),
                                   base + "_saliency.png", n=min(n, 6)))
    summary = record.summary()
    with open(base + ".json", "w") as file:
        json.dump(summary, file, indent=1)
    paths.append(base + ".json")
    return paths
