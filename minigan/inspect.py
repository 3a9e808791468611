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
Plots of a record: ``minigan.inspect_plots``.
"""

import contextlib
import dataclasses

import numpy

from . import backend
from .errors import ConfigError, StateError
from .nn.module import Module

PHASES = ("d_real", "d_fake", "g")
PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
PERCENTILE_SAMPLE = 32768   # percentiles of bigger arrays: from evenly spaced values
HISTOGRAM_BINS = 40


@dataclasses.dataclass
class Tensor:
    """One recorded array (on the host) and its summary numbers."""

    array: numpy.ndarray
    shape: tuple
    norm: float               # sqrt(sum of squares) over the whole batch
    sample_norm: float        # mean over the batch of each sample's norm
    mean: float
    std: float
    abs_mean: float
    min: float
    max: float
    zero_fraction: float
    percentiles: dict         # {1: ..., 5: ..., ..., 99: ...}   (both exact up to
    histogram: tuple          # (counts, bin edges)               PERCENTILE_SAMPLE values)

    @classmethod
    def of(cls, array, keep=True):
        host = numpy.array(backend.to_numpy(array), copy=True)  # layers may reuse buffers
        values = host.astype(numpy.float64).reshape(host.shape[0] if host.ndim else 1, -1)
        squares = values * values
        per_sample = numpy.sqrt(squares.sum(axis=1))
        # percentiles and histogram: exact up to PERCENTILE_SAMPLE values, else of every
        # k-th value (evenly spaced), which is plenty for a summary and keeps recording fast
        flat = values.ravel()
        sample = flat[::max(1, flat.size // PERCENTILE_SAMPLE)]
        counts, edges = numpy.histogram(sample, bins=HISTOGRAM_BINS)
        return cls(array=host if keep else None, shape=tuple(host.shape),
                   norm=float(numpy.sqrt(squares.sum())), sample_norm=float(per_sample.mean()),
                   mean=float(flat.mean()), std=float(flat.std()),
                   abs_mean=float(numpy.abs(flat).mean()), min=float(flat.min()),
                   max=float(flat.max()), zero_fraction=float((flat == 0).mean()),
                   percentiles=dict(zip(PERCENTILES, numpy.percentile(sample, PERCENTILES)
                                        .tolist())),
                   histogram=(counts, edges))

    def summary(self):
        """The numbers without the array, JSON-ready."""
        return {"shape": list(self.shape), "norm": self.norm, "sample_norm": self.sample_norm,
                "mean": self.mean, "std": self.std, "abs_mean": self.abs_mean,
                "min": self.min, "max": self.max, "zero_fraction": self.zero_fraction,
                "percentiles": {str(k): v for k, v in self.percentiles.items()},
                "histogram": {"counts": self.histogram[0].tolist(),
                              "edges": self.histogram[1].tolist()}}


@dataclasses.dataclass
class LayerCall:
    """One forward of one layer, and the backward that consumed it (if any)."""

    phase: str                # "d_real", "d_fake" or "g"
    network: str              # "G" or "D"
    name: str                 # the layer's dotted name in its network ("0", "net.2")
    layer: str                # repr of the layer, one line
    d_step: int               # which D step (0..d_steps-1); None in the G step
    output: Tensor            # y
    grad_output: Tensor = None  # dL/dy: the gradient flowing back into the layer
    grad_input: Tensor = None   # dL/dx: None when not computed (need_input_grad=False)

    def summary(self):
        return {"phase": self.phase, "network": self.network, "name": self.name,
                "layer": self.layer, "d_step": self.d_step, "output": self.output.summary(),
                "grad_output": self.grad_output and self.grad_output.summary(),
                "grad_input": self.grad_input and self.grad_input.summary()}


class _Call:
    """A network-level call (G or D as a whole) while recording."""

    def __init__(self, network, kind):
        self.network, self.kind = network, kind
        self.output = self.grad_output = self.grad_input = None
        self.labels = None        # a conditional network's labels (host copy)


class StepRecord:
    """What ``Recorder`` saw during one ``Trainer.step``: network calls and layer calls,
    each with its phase."""

    def __init__(self, calls, layer_calls, stats=None):
        self.stats = stats
        self.calls = calls              # list of (phase, d_step, _Call), in call order
        self.layer_calls = layer_calls  # list of LayerCall, in forward order

    def layers(self, phase, network, d_step=0):
        """The LayerCall objects of ``network`` ("G"/"D") in ``phase``, in forward order."""
        _check_phase(phase)
        return [layer for layer in self.layer_calls
                if layer.phase == phase and layer.network == network
                and (phase == "g" or layer.d_step == d_step)]

    def network_call(self, phase, network, kind, d_step=0):
        """The network-level call ("forward"/"backward") of ``network`` in ``phase``."""
        _check_phase(phase)
        for p, k, call in self.calls:
            if (p == phase and call.network == network and call.kind == kind
                    and (phase == "g" or k == d_step)):
                return call
        raise StateError(f"StepRecord: no {network}.{kind} call in phase {phase!r}"
                         f"{'' if phase == 'g' else f' of D step {d_step}'} was recorded")

    @property
    def logit_gradient(self):
        """dLoss_G/dlogit: the objective's gradient that enters D in the G step."""
        return self.network_call("g", "D", "backward").grad_output

    @property
    def generator_gradient(self):
        """dLoss_G/dG(z): the gradient image that leaves the frozen D and reaches G."""
        return self.network_call("g", "D", "backward").grad_input

    @property
    def fake_images(self):
        """G(z) in the G step (the images the gradient image belongs to)."""
        return self.network_call("g", "G", "forward").output

    @property
    def fake_labels(self):
        """The class labels of the G step's fakes (conditional models), else None."""
        return self.network_call("g", "G", "forward").labels

    @property
    def logits(self):
        """D's outputs on the fakes in the G step."""
        return self.network_call("g", "D", "forward").output

    def g_path(self):
        """The G step's backward path as [(label, Tensor)]: dLoss/dlogit, then the
        gradient leaving each D layer (last to first), which ends at dLoss/dG(z), then
        the gradient leaving each G layer (last to first; the first one's is not computed)."""
        path = [("dL/dlogit", self.logit_gradient)]
        for network in ("D", "G"):
            for layer in reversed(self.layers("g", network)):
                if layer.grad_input is not None:
                    path.append((f"{network}[{layer.name}] {layer.layer} -> dL/d input",
                                 layer.grad_input))
        return path

    def summary(self):
        """Every layer's numbers by phase, JSON-ready (no arrays)."""
        phases = {}
        for phase in PHASES:
            phases[phase] = {net: [layer.summary() for layer in self.layers(phase, net)]
                             for net in ("G", "D")}
        return {"stats": self.stats, "phases": phases,
                "logit_gradient": self.logit_gradient.summary(),
                "generator_gradient": self.generator_gradient.summary(),
                "g_path": [{"where": label, "norm": t.norm} for label, t in self.g_path()]}


class Recorder:
    """Context manager recording every layer of a trainer's G and D while a step runs.

    ``with Recorder(trainer) as recorder: stats = trainer.step(real)``, then
    ``recorder.record(stats)`` gives the StepRecord. ``keep_arrays=False`` keeps the
    summary numbers only (the network-level tensors keep their arrays in any case).
    """

    def __init__(self, trainer, keep_arrays=True):
        for name in ("G", "D"):
            model = getattr(trainer, name, None)
            if not isinstance(model, Module):
                raise ConfigError(f"Recorder: the trainer's {name} must be a minigan Module, "
                                  f"got {type(model).__name__}")
        self.trainer = trainer
        self.networks = {"G": trainer.G, "D": trainer.D}
        self.keep_arrays = keep_arrays
        self._handles = []
        self._calls = []          # (phase, d_step, _Call) of the networks, in call order
        self._layer_calls = []    # LayerCall of the layers, in forward order

    # -- registering and removing the hooks ----------------------------------
    def __enter__(self):
        for network, model in self.networks.items():
            self._watch_network(network, model)
            for name, layer in _leaves(model):
                self._watch_layer(network, name, layer)
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return False

    def _phase(self):
        """(phase, D step) as the trainer names them now; the G step has no D step."""
        phase = self.trainer.phase
        return phase, (None if phase == "g" else self.trainer.d_step_index)

    def _watch_network(self, network, model):
        def forward_hook(module, inputs, output):
            call = _Call(network, "forward")
            if len(inputs) > 1:   # LabelConditioned: forward(x, labels)
                call.labels = numpy.array(backend.to_numpy(inputs[1]), copy=True)
            call.output = Tensor.of(output)
            self._calls.append((*self._phase(), call))

        def backward_hook(module, grad_input, grad_output):
            call = _Call(network, "backward")
            call.grad_output = Tensor.of(grad_output)
            call.grad_input = None if grad_input is None else Tensor.of(grad_input)
            self._calls.append((*self._phase(), call))

        self._handles += [model.register_forward_hook(forward_hook),
                          model.register_backward_hook(backward_hook)]

    def _watch_layer(self, network, name, layer):
        pending = []              # this layer's forward still waiting for its backward

        def forward_hook(module, inputs, output):
            phase, d_step = self._phase()
            entry = LayerCall(phase=phase, network=network, name=name, layer=_one_line(layer),
                              d_step=d_step, output=Tensor.of(output, self.keep_arrays))
            pending[:] = [entry]  # a module keeps one forward's cache: the last one
            self._layer_calls.append(entry)

        def backward_hook(module, grad_input, grad_output):
            if pending:
                entry = pending.pop()
                entry.grad_output = Tensor.of(grad_output, self.keep_arrays)
                entry.grad_input = (None if grad_input is None
                                    else Tensor.of(grad_input, self.keep_arrays))

        self._handles += [layer.register_forward_hook(forward_hook),
                          layer.register_backward_hook(backward_hook)]

    # -- the record ----------------------------------------------------------
    def record(self, stats=None):
        """The StepRecord of the calls seen so far."""
        return StepRecord(list(self._calls), list(self._layer_calls), stats)


def inspect_step(trainer, real, labels=None, keep_arrays=True):
    """Run ``trainer.step(real, labels)`` with every layer recorded; returns a StepRecord
    (``.stats`` holds the step's numbers). The step's result is unchanged."""
    if getattr(trainer, "feature_matching", None) is not None:
        raise ConfigError("inspect_step: the feature-matching G step runs a slice of D "
                          "(D[:k+1]), which the recorder cannot follow; expected a trainer "
                          "with feature_matching=None")
    if getattr(trainer, "r1", 0) or trainer.objective.gp_weight is not None:
        raise ConfigError("inspect_step: a gradient penalty runs D's layers on a path of "
                          "their own (minigan.nn.second_order), which the recorder cannot "
                          "follow; expected a trainer without r1 or the 'wgan-gp' objective")
    recorder = Recorder(trainer, keep_arrays=keep_arrays)
    with recorder:
        stats = trainer.step(real, labels)
    return recorder.record(stats)


# -- gradients that change nothing --------------------------------------------------------

@contextlib.contextmanager
def preserved(*modules):
    """Run a block that may call forward/backward on ``modules`` and leave them exactly as
    they were: parameter gradients, requires_grad flags, BatchNorm running statistics and
    the layers' forward caches are put back on exit (weights are never written)."""
    modules = [m for m in modules]
    params = [p for m in modules for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    grads = [p.grad.copy() for p in params]
    buffers = [(m, name, getattr(m, name).copy()) for model in modules
               for m in model.modules() for name in m._buffer_names]
    caches = [(m, vars(m).get("_cache"), vars(m).get("_output_shape"))
              for model in modules for m in model.modules()]
    try:
        yield
    finally:
        for p, flag, grad in zip(params, flags, grads):
            p.requires_grad = flag
            backend.xp.copyto(p.grad, grad)
        for m, name, value in buffers:
            backend.xp.copyto(getattr(m, name), value)
        for m, cache, shape in caches:
            m._cache = cache
            if shape is not None:
                m._output_shape = shape


def saliency(D, images, labels=None):
    """dD/dx: the gradient of D's summed logits w.r.t. ``images``, (N, ...) like them.

    D runs in the mode it is in (the trainer keeps it in training mode: BatchNorm uses
    the batch's statistics, so sample i's logit depends a little on the others and the
    gradient is that of the sum). D is frozen meanwhile, and its gradients, running
    statistics and caches are restored afterwards: training is not affected. This is
    D.backward with an upstream gradient of ones; the G step's gradient image is
    D.backward with the objective's gradient instead."""
    with preserved(D):
        D.freeze()
        out = D.forward(images) if labels is None else D.forward(images, labels)
        return D.backward(backend.xp.ones_like(out))


def generator_gradient(G, D, z, loss, labels=None):
    """What one G step under ``loss`` (a name or Objective) would receive from ``z``,
    computed as the trainer does (D frozen, training mode) and leaving G and D as they
    were. Returns host numbers and arrays: d_fake (sigmoid of the logits, per sample),
    logits, grad_logit (dL/dlogit), grad_image (dL/dG(z)), and the norms grad_image_norm
    and grad_theta_norm (||dL/dθ_G|| over all of G's parameters)."""
    from .gan.objectives import get_objective

    objective = get_objective(loss)
    xp = backend.xp
    with preserved(G, D):
        fake = G.forward(z) if labels is None else G.forward(z, labels)
        D.freeze()
        out = D.forward(fake) if labels is None else D.forward(fake, labels)
        result = objective.g_loss(out)
        grad_image = D.backward(result["grad_fake"])
        G.zero_grad()
        G.backward(grad_image, need_input_grad=False)
        theta = float(sum((p.grad * p.grad).sum() for p in G.parameters())) ** 0.5
        logits = backend.to_numpy(out).astype(numpy.float64).ravel()
        return {"loss": result["loss"], "logits": logits,
                "d_fake": 1 / (1 + numpy.exp(-logits)),
                "grad_logit": backend.to_numpy(result["grad_fake"]).astype(numpy.float64).ravel(),
                "grad_image": numpy.array(backend.to_numpy(grad_image), copy=True),
                "grad_image_norm": float(xp.sqrt((grad_image * grad_image).sum())),
                "grad_theta_norm": theta}


# -- helpers -------------------------------------------------------------------------------

def _leaves(model, prefix=""):
    """(dotted name, module) for every module without children, in order; none for a
    network that is a single layer (its network-level call is recorded all the same)."""
    children = list(model.named_children())
    if not children:
        return [(prefix.rstrip("."), model)] if prefix else []
    result = []
    for name, child in children:
        result.extend(_leaves(child, prefix + name + "."))
    return result


def _one_line(layer):
    return " ".join(repr(layer).split())


def _check_phase(phase):
    if phase not in PHASES:
        raise ConfigError(f"StepRecord: unknown phase {phase!r}: expected one of {PHASES}")
