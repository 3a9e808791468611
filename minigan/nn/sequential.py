"""Sequential: layers applied in order; backward runs them in reverse."""

from ..errors import ConfigError, MiniganError
from .module import Module


class Sequential(Module):
    """y = layers[-1](... layers[0](x)). Children are reachable by index (``seq[0]``)
    and their state_dict keys start with the index ("0.weight")."""

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ConfigError(f"Sequential: item {i} is {type(layer).__name__}, "
                                  "expected a minigan Module")
        self.layers = list(layers)

    def named_children(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = _with_position(i, layer, layer.run_forward, x)
        return x

    def backward(self, gy, need_input_grad=True):
        """dL/dx through every layer in reverse; the first layer skips its input
        gradient when ``need_input_grad`` is False."""
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            gy = _with_position(i, layer, layer.run_backward, gy, need_input_grad or i > 0)
        return gy

    def _where(self):
        """One line for error messages (``repr`` lists every layer)."""
        return f"Sequential({len(self.layers)} layers)"

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


def _with_position(index, layer, method, *args):
    """Call method(*args); a minigan error gets the layer's index in the message."""
    try:
        return method(*args)
    except MiniganError as error:
        raise type(error)(f"Sequential[{index}]: {error}") from None
