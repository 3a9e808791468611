"""A training run's settings: ``RunConfig`` and each loss's defaults (``LOSS_DEFAULTS``)."""

import dataclasses

from ..gan import training_defaults as defaults
from ..gan.progressive_trainer import STAGE_STEPS

ADAM_BETAS = defaults.ADAM_BETAS   # DCGAN's (Radford et al. 2016)
_DCGAN = {"optimizer": defaults.OPTIMIZER, "lr_d": defaults.LR, "lr_g": defaults.LR,
          "beta1": ADAM_BETAS[0], "beta2": ADAM_BETAS[1], "d_steps": defaults.D_STEPS}
LOSS_DEFAULTS = {
    # DCGAN's Adam settings (Radford et al. 2016); one-sided label smoothing 0.9 (Salimans
    # et al. 2016) for the BCE losses
    "non-saturating": {**_DCGAN, "real_label": defaults.REAL_LABEL},
    "minimax": {**_DCGAN, "real_label": defaults.REAL_LABEL},
    # LSGAN's 0-1 coding (Mao et al. 2017): real images are coded 1
    "lsgan": {**_DCGAN, "real_label": 1.0},
    # hinge: the margins are fixed at +-1, no targets
    "hinge": dict(_DCGAN),
    # Arjovsky et al. 2017: RMSprop, lr 5e-5, 5 critic steps per G step, no targets
    "wgan": {"optimizer": "rmsprop", "lr_d": 5e-5, "lr_g": 5e-5, "d_steps": 5},
    # Gulrajani et al. 2017: lambda = 10, 5 critic steps per G step, Adam(1e-4, (0, 0.9))
    "wgan-gp": {"optimizer": "adam", "lr_d": 1e-4, "lr_g": 1e-4, "beta1": 0.0, "beta2": 0.9,
                "d_steps": 5, "gp_weight": 10.0},
}
"""The settings a RunConfig left at None gets, by loss: each loss's paper's."""


@dataclasses.dataclass
class RunConfig:
    dataset: str = "mnist"
    data: str = None
    model: str = "dcgan"
    epochs: int = 20
    batch_size: int = 64
    loss: str = defaults.LOSS
    # None: the loss's default (LOSS_DEFAULTS), filled in when the config is made
    optimizer: str = None
    lr_d: float = None
    lr_g: float = None
    beta1: float = None  # Adam's; none for RMSprop
    beta2: float = None
    real_label: float = None  # the target for real images; none for losses without targets
    d_steps: int = None
    gp_weight: float = None  # WGAN-GP's lambda (wgan-gp only; default 10)
    r1: float = 0.0  # R1's gamma for the BCE losses (0: no penalty)
    latent_dim: int = 100
    seed: int = defaults.SEED
    out: str = "runs/mnist-dcgan"
    checkpoint_every: int = 5
    max_steps: int = None
    sample_count: int = 64
    evaluate: int = 2000  # samples scored at the end of the run (0: skip)
    backend: str = "numpy"
    progress: bool = True
    inspect_every: int = 0  # record every N-th step with minigan.inspect (0: never)
    spectral_norm: bool = False  # D's Conv2d/Dense weights spectrally normalised
    minibatch_stddev: bool = False  # D sees the batch's standard deviation as a feature
    stage_steps: int = None  # progressive: steps per growth phase (None: STAGE_STEPS)
    equalized_lr: bool = False  # progressive: every weight scaled by He's constant at run time
    # the embedded sample: train on all 5,000 digits, the 500 held out for scoring too (how
    # runs trained before the held-out split; heldout_scores)
    train_on_heldout: bool = False

    def __post_init__(self):
        defaults = dict(LOSS_DEFAULTS.get(self.loss, LOSS_DEFAULTS["non-saturating"]))
        if self.optimizer == "adam" and defaults["optimizer"] != "adam":
            defaults.update(beta1=ADAM_BETAS[0], beta2=ADAM_BETAS[1])  # Adam asked for
        if (self.optimizer or defaults["optimizer"]) != "adam":
            defaults.pop("beta1", None)                              # RMSprop has no betas
            defaults.pop("beta2", None)
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        if self.model == "progressive" and self.stage_steps is None:
            self.stage_steps = STAGE_STEPS
