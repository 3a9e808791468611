"""GANs on minigan's layers: models, objectives, the trainer, penalties and techniques,
progressive growing and the 1-D lab. Training runs on disk are ``minigan.app``."""

from . import games, lab1d  # the Dirac-GAN and bilinear game; the 1-D GAN lab
from .conditional_dcgan import conditional_dcgan_discriminator, conditional_dcgan_generator
from .dcgan_init import dcgan_init_
from .growth import GrowthSchedule
from .lab1d import Gaussian, GaussianMixture, mlp_1d_discriminator, mlp_1d_generator
from .lab1d_train import train_discriminator_1d, train_gan_1d
from .model_names import MODELS, build_models
from .models import (
    conditional_discriminator,
    conditional_generator,
    dcgan_critic,
    dcgan_discriminator,
    dcgan_generator,
    mlp_discriminator,
    mlp_generator,
)
from .objectives import OBJECTIVES, Objective, get_objective
from .penalties import double_backprop, gradient_penalty, input_gradient, r1_penalty
from .progressive import ProgressiveDiscriminator, ProgressiveGenerator
from .progressive_trainer import ProgressiveTrainer
from .techniques import HistoricalAverage, ReplayBuffer, instance_noise_std
from .trainer import Trainer

__all__ = ["Gaussian", "GaussianMixture", "GrowthSchedule", "HistoricalAverage", "MODELS",
           "OBJECTIVES", "Objective", "ProgressiveDiscriminator", "ProgressiveGenerator",
           "ProgressiveTrainer", "ReplayBuffer", "Trainer", "build_models",
           "conditional_dcgan_discriminator", "conditional_dcgan_generator",
           "conditional_discriminator", "conditional_generator", "dcgan_critic",
           "dcgan_discriminator", "dcgan_generator", "dcgan_init_", "double_backprop",
           "games", "get_objective", "gradient_penalty", "input_gradient", "instance_noise_std",
           "lab1d",
           "mlp_1d_discriminator", "mlp_1d_generator", "mlp_discriminator", "mlp_generator",
           "r1_penalty", "train_discriminator_1d", "train_gan_1d"]
