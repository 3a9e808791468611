"""The quality numbers of a trainer's generator: ``n`` samples scored against the real
test images (``minigan.metrics``), for the report at the end of a run and for
``minigan evaluate``."""

import numpy

from .. import backend
from ..data import to_unit_range
from ..data.datasets import load_with_source
from ..gan.models import is_conditional
from ..gan.progressive_trainer import growth_note
from ..metrics import evaluate_samples


def sample_labels(trainer, n):
    """Class labels 0..9 in rows for conditional models, None otherwise."""
    if not is_conditional(trainer.G):
        return None
    return backend.xp.arange(n) % trainer.G.num_classes


def generate(trainer, n, seed=0, chunk=500):
    """n generated images as a host array (n, 28, 28, 1), made in chunks of ``chunk``."""
    dtype = trainer.G.parameters()[0].dtype
    rng = backend.default_rng(seed)
    pieces = []
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        z = rng.standard_normal((size, trainer.latent_dim), dtype=dtype)
        pieces.append(backend.to_numpy(trainer.sample(size, z=z,
                                                      labels=sample_labels(trainer, size))))
    return numpy.concatenate(pieces)


def evaluate_trainer(trainer, config, n=2000, seed=0):
    """Fréchet distance in the MNIST classifier's feature space, class histogram, mode
    coverage and confidence of ``n`` samples from the trainer's generator, against the
    real test images of the run's dataset (the embedded sample when none are found). A
    progressive generator below 28x28 is scored on its images nearest-upsampled to 28x28
    (``trainer.sample``), and the result says so under "generator". "test_data" says
    where the real images came from (``load_with_source``: embedded sample, directory or
    download, and how many)."""
    images, _, data = load_with_source(config.dataset, "test", config.data,
                                       embedded_fallback=True)
    result = evaluate_samples(generate(trainer, n, seed), to_unit_range(images))
    result.update({"step": trainer.step_count, "dataset": config.dataset})
    result["test_data"] = data  # where the real images came from (load_with_source)
    growth = growth_note(trainer)  # a progressive G below 28x28 is scored upsampled
    if growth:
        result["generator"] = growth
    return result
