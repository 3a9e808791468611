"""GANs on minigan's layers: models, objectives, the trainer and training runs."""

from .models import (
    MODELS,
    build_models,
    conditional_discriminator,
    conditional_generator,
    dcgan_discriminator,
    dcgan_generator,
    mlp_discriminator,
    mlp_generator,
)
from .objectives import OBJECTIVES, Objective, get_objective
from .techniques import HistoricalAverage, ReplayBuffer, instance_noise_std
from .trainer import Trainer
