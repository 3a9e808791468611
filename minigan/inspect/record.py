"""What a recorded step holds: one ``LayerCall`` per forward of a layer (with the backward
that consumed it), the network-level calls of G and D, and ``StepRecord``, which finds
them by phase and gives the G step's gradient path."""

import dataclasses

from ..errors import ConfigError, StateError
from .tensor import Tensor

PHASES = ("d_real", "d_fake", "g")
"""The phases a record is kept for (the trainer's penalty phases are not recorded)."""


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


class NetworkCall:
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
        self.calls = calls              # [(phase, d_step, NetworkCall)], in call order
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


def _check_phase(phase):
    if phase not in PHASES:
        raise ConfigError(f"StepRecord: unknown phase {phase!r}: expected one of {PHASES}")
