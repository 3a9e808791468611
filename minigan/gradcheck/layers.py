"""Gradient checks of every layer and the loss on small random configurations.

Used by ``minigan check`` so a student can see the proof run, and by the tests.
"""

from .. import backend, nn
from ..losses import BCEWithLogits
from . import GradientError, check_module, numerical_gradient

TOLERANCE = 1e-6
"""Largest relative error accepted between analytic and finite-difference gradients."""


def _layers():
    """(layer, input shape) pairs covering every layer type, in float64."""
    f64 = {"dtype": "float64"}
    return [
        (nn.Dense(5, 3, **f64), (4, 5)),
        (nn.Conv2d(2, 3, 3, stride=2, padding=1, **f64), (2, 7, 6, 2)),
        (nn.ConvTranspose2d(3, 2, 5, stride=2, padding=2, output_padding=1, **f64), (2, 3, 4, 3)),
        (nn.BatchNorm1d(3, **f64), (5, 3)),
        (nn.BatchNorm2d(2, **f64), (3, 4, 3, 2)),
        (nn.BatchNorm2d(2, **f64).eval(), (3, 4, 3, 2)),
        (nn.LayerNorm((4, 3, 2), **f64), (3, 4, 3, 2)),
        (nn.LeakyReLU(0.2), (3, 7)),
        (nn.ReLU(), (3, 7)),
        (nn.Tanh(), (3, 7)),
        (nn.Sigmoid(), (3, 7)),
        (nn.MinibatchStdDev(), (4, 5)),
        (nn.MinibatchStdDev(group_size=2), (4, 3, 2, 2)),
        # eval: u held fixed, so finite differences see the same sigma formula as backward
        (nn.SpectralNorm(nn.Dense(5, 3, **f64)).eval(), (4, 5)),
        (nn.SpectralNorm(nn.Conv2d(2, 3, 3, stride=2, padding=1, **f64)).eval(), (2, 7, 6, 2)),
        (nn.Upsample2d(2), (2, 3, 4, 2)),
        (nn.AvgPool2d(2), (2, 5, 4, 2)),
        (nn.PixelNorm(), (2, 3, 3, 4)),
        (nn.Fade(nn.Sequential(nn.Conv2d(2, 3, 1, **f64), nn.Upsample2d(2)),
                 nn.Sequential(nn.Upsample2d(2), nn.Conv2d(2, 3, 3, padding=1, **f64)),
                 alpha=0.3), (2, 3, 2, 2)),
        (nn.EqualizedLR(nn.Conv2d(2, 3, 3, padding=1, **f64)), (2, 4, 4, 2)),
    ]


def _bce_check(rng):
    """The loss: d mean BCE / d logits against finite differences."""
    logits = rng.standard_normal((6, 1)) * 3
    targets = rng.random((6, 1))
    loss = BCEWithLogits()
    value = loss(logits, targets)
    analytic = loss.backward()
    eps = 1e-6
    numeric = numerical_gradient(lambda: BCEWithLogits()(logits, targets), logits, eps)
    error = float(backend.xp.abs(analytic - numeric).max())
    scale = max(float(backend.xp.abs(numeric).max()), 1e-30)
    floor = 8 * 2.0**-52 * abs(value) / eps  # the round-off of a central difference
    return GradientError("logits", error, error / scale, scale, floor)


def check_all_layers(mode="elementwise", seed=0):
    """[(layer description, [GradientError, ...]), ...] for every layer and the loss."""
    backend.seed(seed)
    rng = backend.default_rng(seed)
    results = []
    for layer, shape in _layers():
        x = rng.standard_normal(shape)
        # keep ReLU-family inputs off the kink at 0, where the derivative jumps
        x += 0.01 * ((x >= 0) * 2 - 1)
        mode_name = "" if layer.training else " (eval)"
        results.append((f"{type(layer).__name__}{mode_name} x{shape}",
                        check_module(layer, x, mode=mode, seed=seed)))
    results.append(("BCEWithLogits (6, 1)", [_bce_check(rng)]))
    return results
