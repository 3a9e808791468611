"""What the GAN lab keeps of its steps: ``GTap`` (hooks on G for one step: the fakes and
the gradient G received), ``layer_norms`` (a recorded step's gradient norms, layer by
layer), ``Curves`` (a series with bounded memory)."""

import numpy

from .. import backend


class Curves:
    """At most ``capacity`` points of a series: every ``stride``-th point added is kept,
    and when the list is full every other one is dropped and the stride doubles."""

    def __init__(self, capacity):
        self.capacity, self.stride, self.points, self._seen = capacity, 1, [], 0

    def add(self, point):
        self._seen += 1
        if (self._seen - 1) % self.stride:
            return
        self.points.append(point)
        if len(self.points) >= self.capacity:
            self.points = self.points[::2]
            self.stride *= 2


class GTap:
    """For one trainer step, hooks on G (``minigan.nn.hooks``) that keep host copies of
    G's output in each phase (``outputs["d_fake"]``: the last D step's fakes,
    ``outputs["g"]``: the G step's) and of the gradient G received in the G step
    (``gradient``: dloss_G/dG(z), what ``D.backward`` returned to the trainer, unpacked
    when D is packed)."""

    def __init__(self, trainer):
        self.trainer, self.outputs, self.gradient, self._handles = trainer, {}, None, []

    def __enter__(self):
        G = self.trainer.G
        self._handles = [G.register_forward_hook(self._forward),
                         G.register_backward_hook(self._backward)]
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        return False

    def _forward(self, module, inputs, output):
        self.outputs[self.trainer.phase] = numpy.array(backend.to_numpy(output), copy=True)

    def _backward(self, module, grad_input, grad_output):
        if self.trainer.phase == "g":
            self.gradient = numpy.array(backend.to_numpy(grad_output), copy=True)


def layer_norms(record, phase, nets, d_step):
    """[{"layer", "norm"}]: the norm of the gradient flowing back into each layer's output
    in ``phase``, from the last layer to the first, network by network."""
    out = []
    for net in nets:
        for call in reversed(record.layers(phase, net, d_step)):
            if call.grad_output is not None:
                out.append({"layer": f"{net}{call.name} {call.layer.split('(')[0]}",
                            "norm": number(call.grad_output.norm)})
    return out


def number(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if numpy.isfinite(v) else None
