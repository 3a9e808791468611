"""Look inside one GAN step: every layer's output and the gradient flowing back into it.

Autograd hides the backward pass; minigan writes it out, and this module *records* it::

    from minigan.inspect import inspect_step
    record = inspect_step(trainer, real)          # runs trainer.step(real) once, recorded
    record.stats                                  # what trainer.step returned
    for layer in record.layers("g", "D"):         # the G step's pass through the frozen D
        print(layer.name, layer.output.norm, layer.grad_output.norm)
    record.generator_gradient                     # dLoss/dG(z): what reaches G, (N, 28, 28, 1)
    record.g_path()                               # dLoss/dlogit -> D layers -> dLoss/dG(z) -> G

How: ``Recorder`` registers a forward and a backward hook (``minigan.nn.hooks``) on
every layer of G and D and on the two networks themselves, and removes them on exit. A
hook only copies what came out of a module, or the gradients around it, to the host
(``backend.to_numpy``), so a recorded step updates the weights bit for bit as an
unrecorded one. Each record is labelled with the phase the trainer names while its
networks run (``trainer.phase``, ``trainer.d_step_index``; see ``minigan.gan.trainer``)::

    D step k:  G.forward                        -> phase "d_fake" (G's forward only)
               D.forward, D.backward (real)     -> phase "d_real"
               D.forward, D.backward (fake)     -> phase "d_fake"
    G step:    G.forward, D.forward, D.backward (D frozen), G.backward -> phase "g"

Per layer call (``LayerCall``): ``output`` = y, ``grad_output`` = dL/dy (the gradient
that flows back into the layer), ``grad_input`` = dL/dx (what it passes on; None where
the trainer skips it), each a ``Tensor`` with the host array and its summary numbers
(norm over the whole batch, mean, std, percentiles, histogram). Norms are of the batch
arrays; the losses are means over the batch, so each sample's share is about 1/N.

``saliency(D, images)`` is dD/dx, the gradient of D's summed logits w.r.t. its input, in
D's current mode (training: batch statistics), leaving D's weights, gradients and
running statistics as they were. ``generator_gradient(G, D, z, loss)`` measures what one
G step would receive under an objective, without changing anything.

Supported: ``Sequential`` networks and ``LabelConditioned`` ones (their inner network's
layers are recorded; names "net.0", ...). Not supported: the feature-matching G step
(it runs a slice of D, not D itself) -- ``inspect_step`` refuses it with a ConfigError,
and the gradient penalties (their passes through D take paths of their own, where no
hook fires).
Plots of a record: ``minigan.inspect.plots``, imported (with matplotlib) on first use.

The files: ``tensor.py`` (a recorded array and its numbers), ``record.py`` (the layer
and network calls of a step, ``StepRecord``), ``recorder.py`` (the hooks,
``inspect_step``), ``gradients.py`` (``saliency``, ``generator_gradient``).
"""

import importlib

from .gradients import generator_gradient, preserved, saliency
from .record import PHASES, LayerCall, StepRecord
from .recorder import Recorder, inspect_step
from .tensor import HISTOGRAM_BINS, PERCENTILE_SAMPLE, PERCENTILES, Tensor

__all__ = ["HISTOGRAM_BINS", "PERCENTILES", "PERCENTILE_SAMPLE", "PHASES", "LayerCall",
           "Recorder", "StepRecord", "Tensor", "generator_gradient", "inspect_step",
           "preserved", "saliency"]


def __getattr__(name):
    """``minigan.inspect.plots``: imported (with matplotlib) on first use."""
    if name == "plots":
        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'minigan.inspect' has no attribute {name!r}")
