"""DCGAN's initialisation of a whole model (Radford et al. 2016), used by the model
builders; the per-array initialisers it draws from are ``minigan.init``."""

from ..init import dcgan_normal, normal
from ..nn.batchnorm import BatchNormBase
from ..nn.layernorm import LayerNorm


def dcgan_init_(model, rng=None):
    """Re-initialise ``model`` in place as DCGAN does: every Dense / Conv2d /
    ConvTranspose2d weight ~ N(0, 0.02^2) and bias 0; every BatchNorm (and LayerNorm)
    gamma ~ N(1, 0.02^2) and beta 0. Returns the model."""
    modules = [model]
    while modules:
        module = modules.pop(0)
        modules.extend(module.children())
        if isinstance(module, (BatchNormBase, LayerNorm)):
            module.weight.data[...] = normal(module.weight.shape, 0.02, 1.0, rng,
                                             module.weight.dtype)
        elif getattr(module, "weight", None) is not None:
            module.weight.data[...] = dcgan_normal(module.weight.shape, rng, module.weight.dtype)
        else:
            continue
        if module.bias is not None:
            module.bias.data.fill(0)
    return model
