"""Recording a step: ``Recorder`` hooks every layer of a trainer's G and D
(``minigan.nn.hooks``) and labels what it sees with the phase the trainer names;
``inspect_step`` runs one recorded ``trainer.step``."""

import numpy

from .. import backend
from ..errors import ConfigError
from ..nn.module import Module
from .record import LayerCall, NetworkCall, StepRecord
from .tensor import Tensor


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
        self._calls = []          # (phase, d_step, NetworkCall) of G and D, in call order
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
            call = NetworkCall(network, "forward")
            if len(inputs) > 1:   # LabelConditioned: forward(x, labels)
                call.labels = numpy.array(backend.to_numpy(inputs[1]), copy=True)
            call.output = Tensor.of(output)
            self._calls.append((*self._phase(), call))

        def backward_hook(module, grad_input, grad_output):
            call = NetworkCall(network, "backward")
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
