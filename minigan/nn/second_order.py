"""The layers of a critic on a path of their own, differentiated twice (for gradient penalties).

A gradient penalty (``minigan.gan.penalties``) runs four sweeps through the critic D: a
forward, a backward for the input gradient, a double backward in forward order, and an
ordinary backward (docs/backprop_through_the_backprop.md). Each sweep needs what the
forward kept -- but a module keeps one cache, that of its last forward, which a training
step may still need (D's forward on the real batch, waiting for its backward). So each
layer goes on a ``LayerPath``: the path runs the module's own checked ``forward``, takes
the cache it made and puts the module's previous cache back; every later sweep calls the
functional core with the path's cache. The modules' state is left as it was; only the
parameters' ``.grad`` receive the penalty's gradient, as a backward would add it.

Supported: Dense, Conv2d, ConvTranspose2d, LayerNorm, Maxout, LeakyReLU, ReLU, Tanh, Sigmoid,
Flatten, Reshape, and Sequentials of them (nested too). Layers that mix the samples of a
batch (BatchNorm, MinibatchStdDev) are refused with a ``ConfigError``: with them a
sample's gradient would depend on the other samples of the batch, and a per-sample penalty
means nothing. So are SpectralNorm (its training forward updates u) and LabelConditioned.
"""

from .. import functional as F
from ..errors import ConfigError, MiniganError
from .activations import LeakyReLU, ReLU, Sigmoid, Tanh
from .batchnorm import BatchNormBase
from .conv import Conv2d
from .conv_transpose import ConvTranspose2d
from .dense import Dense
from .layernorm import LayerNorm
from .maxout import Maxout
from .minibatch_stddev import MinibatchStdDev
from .sequential import Sequential
from .shape import Flatten, Reshape


class LayerPath:
    """One layer of the critic on the penalty's path; the caches live here, not in the module.

    forward(x) -> y                 the module's forward; its cache is kept here
    input_gradient(gy) -> gx        the backward's input gradient (no parameter gradients);
                                    gy is kept: the double backward differentiates this call
    double_backward(v) -> (ggy, gx) for v = dPen/dgx: dPen/dgy, and dPen/dx through the
                                    backward's dependence on x (None if it has none); adds
                                    dPen/dparams into the parameters' .grad
    backward(u) -> gx               an ordinary backward of u = dPen/dy; adds into .grad
    """

    def __init__(self, module, where):
        self.module = module
        self.where = where      # "D[2]": the layer's place, for error messages
        self.cache = None
        self.gy = None

    def forward(self, x):
        module = self.module
        saved = module.save_backward_state()
        try:
            y = module.forward(x)
            self.cache = module.save_backward_state().cache    # what this forward kept
        except MiniganError as error:
            raise type(error)(f"{self.where}: {error}") from None
        finally:
            module.restore_backward_state(saved)
        return y

    def input_gradient(self, gy):
        self.gy = gy
        return self._backward(gy, True, False)[0]

    def double_backward(self, v):
        ggy, gx, gradients = self._double_backward(v, self.module.computes_param_grads)
        self.module.accumulate_param_grads(**gradients)
        return ggy, gx

    def backward(self, u, need_input_grad=True):
        gx, gradients = self._backward(u, need_input_grad, self.module.computes_param_grads)
        self.module.accumulate_param_grads(**gradients)
        return gx

    # subclasses: the functional core's rules, with the parameters' names
    def _backward(self, gy, need_input_grad, need_param_grads):
        """(gx, {parameter name: gradient})."""
        raise NotImplementedError

    def _double_backward(self, v, need_param_grads):
        """(ggy, gx or None, {parameter name: gradient})."""
        raise NotImplementedError


class _AffinePath(LayerPath):
    """Dense, Conv2d, ConvTranspose2d: the backward is linear in gy and in the weight and
    does not depend on x or the bias (no input term, no bias gradient)."""

    backward_rule = double_backward_rule = None

    def _backward(self, gy, need_input_grad, need_param_grads):
        gx, gw, gb = type(self).backward_rule(gy, self.cache, need_input_grad, need_param_grads)
        return gx, {"weight": gw, "bias": gb}

    def _double_backward(self, v, need_param_grads):
        ggy, gw = type(self).double_backward_rule(v, self.gy, self.cache, need_param_grads)
        return ggy, None, {"weight": gw}


class _DensePath(_AffinePath):
    backward_rule = staticmethod(F.dense_backward)
    double_backward_rule = staticmethod(F.dense_double_backward)


class _Conv2dPath(_AffinePath):
    backward_rule = staticmethod(F.conv2d_backward)
    double_backward_rule = staticmethod(F.conv2d_double_backward)


class _ConvTranspose2dPath(_AffinePath):
    backward_rule = staticmethod(F.conv_transpose2d_backward)
    double_backward_rule = staticmethod(F.conv_transpose2d_double_backward)


class _MaxoutPath(LayerPath):
    """The backward is linear in gy and in the weight, through the winning pieces' mask,
    which is constant off ties: no input term, no bias gradient."""

    def _backward(self, gy, need_input_grad, need_param_grads):
        gx, gw, gb = F.maxout_backward(gy, self.cache, need_input_grad, need_param_grads)
        return gx, {"weight": gw, "bias": gb}

    def _double_backward(self, v, need_param_grads):
        ggy, gw = F.maxout_double_backward(v, self.gy, self.cache, need_param_grads)
        return ggy, None, {"weight": gw}


class _LayerNormPath(LayerPath):
    """The backward depends on x (through the group's mean and std) and on gamma."""

    def _backward(self, gy, need_input_grad, need_param_grads):
        gx, ggamma, gbeta = F.layer_norm_backward(gy, self.cache, need_input_grad,
                                                  need_param_grads)
        return gx, {"weight": ggamma, "bias": gbeta}

    def _double_backward(self, v, need_param_grads):
        ggy, gx, ggamma = F.layer_norm_double_backward(v, self.gy, self.cache, need_param_grads)
        return ggy, gx, {"weight": ggamma}


class _ActivationPath(LayerPath):
    """An elementwise activation: no parameters; an input term where f'' is not 0."""

    backward_rule = double_backward_rule = None

    def _backward(self, gy, need_input_grad, need_param_grads):
        return (type(self).backward_rule(gy, self.cache) if need_input_grad else None), {}

    def _double_backward(self, v, need_param_grads):
        ggy, gx = type(self).double_backward_rule(v, self.gy, self.cache)
        return ggy, gx, {}


class _LeakyReLUPath(_ActivationPath):
    backward_rule = staticmethod(F.leaky_relu_backward)
    double_backward_rule = staticmethod(F.leaky_relu_double_backward)


class _ReLUPath(_ActivationPath):
    backward_rule = staticmethod(F.relu_backward)
    double_backward_rule = staticmethod(F.relu_double_backward)


class _TanhPath(_ActivationPath):
    backward_rule = staticmethod(F.tanh_backward)
    double_backward_rule = staticmethod(F.tanh_double_backward)


class _SigmoidPath(_ActivationPath):
    backward_rule = staticmethod(F.sigmoid_backward)
    double_backward_rule = staticmethod(F.sigmoid_double_backward)


class _ShapePath(LayerPath):
    """Flatten, Reshape: the cache is the input shape; every sweep only reshapes."""

    def _backward(self, gy, need_input_grad, need_param_grads):
        return (gy.reshape(self.cache) if need_input_grad else None), {}

    def _double_backward(self, v, need_param_grads):
        return v.reshape(self.gy.shape), None, {}


PATHS = {
    Dense: _DensePath, Conv2d: _Conv2dPath, ConvTranspose2d: _ConvTranspose2dPath,
    LayerNorm: _LayerNormPath, Maxout: _MaxoutPath, LeakyReLU: _LeakyReLUPath, ReLU: _ReLUPath,
    Tanh: _TanhPath, Sigmoid: _SigmoidPath, Flatten: _ShapePath, Reshape: _ShapePath,
}
"""module type -> its LayerPath class: the layers a penalised critic may contain."""


def layer_paths(D, caller):
    """D's layers in forward order, each on a ``LayerPath`` (nested Sequentials unrolled).

    ``caller`` names the function in error messages. A layer that cannot be differentiated
    twice per sample is refused with a ``ConfigError`` naming it and its place in D."""
    paths = []
    _collect(D, "D", caller, paths)
    return paths


def _collect(module, where, caller, paths):
    if type(module) is Sequential:
        for i, layer in enumerate(module.layers):
            _collect(layer, f"{where}[{i}]", caller, paths)
        return
    path = PATHS.get(type(module))
    if path is None:
        raise ConfigError(f"{caller}: {where} is {module!r}, {_why_refused(module)}")
    paths.append(path(module, f"{caller}: {where}"))


def _why_refused(module):
    if isinstance(module, (BatchNormBase, MinibatchStdDev)):
        return ("which mixes the samples of a batch: each sample's input gradient would "
                "depend on the others, so a per-sample gradient penalty is not defined; use "
                "LayerNorm instead (as minigan.gan.dcgan_critic does)")
    supported = ", ".join(sorted(cls.__name__ for cls in PATHS))
    return (f"which has no double backward; a penalised critic is a Sequential of {supported} "
            "(SpectralNorm, MinibatchStdDev, BatchNorm and LabelConditioned are not supported)")
