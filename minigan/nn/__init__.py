"""Layers: thin stateful modules over the functional core (images are NHWC)."""

from .activations import LeakyReLU, ReLU, Sigmoid, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .concat import LabelConditioned
from .conv import Conv2d
from .conv_transpose import ConvTranspose2d
from .dense import Dense
from .equalized_lr import EqualizedLR
from .fade import Fade
from .layernorm import LayerNorm
from .maxout import Maxout
from .minibatch_stddev import MinibatchStdDev
from .module import Module
from .parameter import Parameter
from .pixel_norm import PixelNorm
from .projection import ProjectionDiscriminator
from .resample import AvgPool2d, Upsample2d
from .sequential import Sequential
from .shape import Flatten, Reshape
from .spectral_norm import SpectralNorm, spectral_norm

__all__ = ["AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dense",
           "EqualizedLR", "Fade", "Flatten", "LabelConditioned", "LayerNorm", "LeakyReLU",
           "Maxout", "MinibatchStdDev", "Module", "Parameter", "PixelNorm",
           "ProjectionDiscriminator", "ReLU", "Reshape", "Sequential", "Sigmoid", "SpectralNorm",
           "Tanh", "Upsample2d", "spectral_norm"]
