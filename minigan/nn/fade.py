"""Fade: an old path and a new path from the same input, blended by alpha -- how a
progressive GAN brings in a new block without a shock (Karras et al. 2018, §3)."""

from .. import functional as F
from ..errors import ConfigError, MiniganError, ShapeError
from ..validate import finite_number
from .module import Module


class Fade(Module):
    """y = alpha * new(x) + (1 - alpha) * old(x), for two modules whose outputs have one shape.

    The first module in minigan whose graph is not a chain: x feeds two paths and their
    outputs meet again. The backward splits the same way:

        forward:   y_new = new(x),  y_old = old(x),  y = alpha y_new + (1 - alpha) y_old
        backward:  new.backward(alpha * gy)        -> gx_new (and new's parameter gradients)
                   old.backward((1 - alpha) * gy)  -> gx_old (and old's parameter gradients)
                   gx = gx_new + gx_old

    The gradient is *scaled* on its way into each path (y depends on y_new with weight
    alpha) and *added* on its way out (x reaches y along two routes, and the chain rule
    sums over routes). At alpha = 1 the old path is not run at all (forward or backward)
    and y = new(x) exactly; at alpha = 0 likewise the new one.

    In the progressive generator, old = (to_image of the previous resolution, Upsample2d)
    and new = (the new block, its to_image); in the discriminator, old = (AvgPool2d,
    from_image of the previous resolution) and new = (from_image, the new block). alpha
    is set from outside (``fade.alpha = 0.3``, a number in [0, 1]); a forward keeps the
    alpha it used for its backward. state_dict keys: "old.0.weight", "new.1.weight", ...
    """

    def __init__(self, old, new, alpha=0.0):
        super().__init__()
        for name, path in (("old", old), ("new", new)):
            if not isinstance(path, Module):
                raise ConfigError(f"Fade: {name} must be a minigan Module, got "
                                  f"{type(path).__name__}")
        self.old, self.new = old, new
        self.alpha = alpha

    @property
    def alpha(self):
        return self._alpha

    @alpha.setter
    def alpha(self, value):
        self._alpha = finite_number("Fade", "alpha", value, minimum=0, maximum=1)

    def forward(self, x):
        alpha = self._alpha
        y_new = _on_path("new", self.new.run_forward, x) if alpha > 0 else None
        y_old = _on_path("old", self.old.run_forward, x) if alpha < 1 else None
        if y_old is None or y_new is None:           # alpha 1 or 0: one path, unchanged
            return self._remember(y_old if y_new is None else y_new, alpha)
        if y_new.shape != y_old.shape or y_new.dtype != y_old.dtype:
            raise ShapeError(f"{self._where()}: the paths must give outputs of one shape and "
                             f"dtype, got new {tuple(y_new.shape)} {y_new.dtype} and old "
                             f"{tuple(y_old.shape)} {y_old.dtype}")
        return self._remember(*F.fade_forward(y_new, y_old, alpha))

    def backward(self, gy, need_input_grad=True):
        """dL/dx = new's input gradient for alpha * gy + old's for (1 - alpha) * gy; each
        path adds its parameter gradients. None with ``need_input_grad=False``."""
        alpha = self._take_cache(gy)
        if alpha == 1:
            return _on_path("new", self.new.run_backward, gy, need_input_grad)
        if alpha == 0:
            return _on_path("old", self.old.run_backward, gy, need_input_grad)
        g_new, g_old = F.fade_backward(gy, alpha)
        gx_new = _on_path("new", self.new.run_backward, g_new, need_input_grad)
        gx_old = _on_path("old", self.old.run_backward, g_old, need_input_grad)
        return F.sum_of_paths(gx_new, gx_old) if need_input_grad else None

    def extra_repr(self):
        return f"alpha={self._alpha}"

    def _where(self):
        return f"Fade(alpha={self._alpha})"

    def __repr__(self):
        old = repr(self.old).replace("\n", "\n  ")
        new = repr(self.new).replace("\n", "\n  ")
        return f"Fade(alpha={self._alpha},\n  (old): {old}\n  (new): {new}\n)"


def _on_path(name, method, *args):
    """Call method(*args); a minigan error gets the path's name in the message."""
    try:
        return method(*args)
    except MiniganError as error:
        raise type(error)(f"Fade.{name}: {error}") from None
