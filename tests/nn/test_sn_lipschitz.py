"""What spectral normalisation bounds in dcgan_discriminator(spectral_norm=True), measured
by scripts/measure_sn_lipschitz.py's functions on real digits at initialisation (float64):

- a normalised Conv2d's operator norm (power iteration on input perturbations) is above 1:
  the reshaped kernel's norm bounds the convolution only up to a kernel/stride factor;
- the same layers without the BatchNorm2d are bounded by the product of those norms;
- with BatchNorm in training mode the slopes gamma / sigma_batch are far above 1 and the
  input gradient at real digits is several times that of the chain without it.
"""

import importlib.util
from pathlib import Path

import numpy as np

import minigan as mg

SCRIPT = Path(__file__).resolve().parent.parent.parent / "scripts" / "measure_sn_lipschitz.py"


def load_script():
    spec = importlib.util.spec_from_file_location("measure_sn_lipschitz", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_spectral_norm_with_batchnorm_does_not_bound_the_discriminator(capsys):
    script = load_script()
    images, _ = mg.data.load_embedded_mnist(quiet=True)
    x = mg.data.to_unit_range(images[:8]).astype("float64")
    D = mg.gan.dcgan_discriminator(spectral_norm=True, dtype="float64",
                                   rng=mg.backend.default_rng(0))
    for _ in range(20):
        D(x)
    bounds, slopes, with_bn, without_bn = script.measure(D, x, "test")
    assert bounds[0] > 1.5 and abs(bounds[2] - 1.0) < 1e-3   # conv > 1; Dense's is exact
    # the chain without BatchNorm respects the product bound (power iteration: <= 1e-3 low)
    assert without_bn.max() <= np.prod(bounds) * 1.001
    assert np.median(slopes) > 3.0
    assert with_bn.min() > 3 * without_bn.max()
    assert "BatchNorm2d slopes" in capsys.readouterr().out
