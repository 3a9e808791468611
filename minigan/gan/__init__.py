"""GANs on minigan's layers: models, objectives, the trainer, penalties and techniques,
progressive growing, PacGAN's networks and packing, and the 1-D lab. Training runs on disk
are ``minigan.app``."""

from . import (
    games,  # the Dirac-GAN and the bilinear game
    lab1d,  # the 1-D GAN lab (its theory functions: minigan.gan.lab1d)
    packing,  # PacGAN's packing of D's inputs (Trainer(..., pack=m))
)
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
    is_conditional,
    mlp_discriminator,
    mlp_generator,
)
from .objectives import OBJECTIVES, Objective, get_objective
from .pacgan import pacgan_discriminator, pacgan_generator
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
           "games", "get_objective", "gradient_penalty", "input_gradient",
           "instance_noise_std", "is_conditional", "lab1d",
           "mlp_1d_discriminator", "mlp_1d_generator", "mlp_discriminator", "mlp_generator",
           "pacgan_discriminator", "pacgan_generator", "packing", "r1_penalty",
           "train_discriminator_1d", "train_gan_1d"]
