"""The default training settings, in one place: DCGAN's (Radford et al. 2016) -- Adam at
2e-4 with betas (0.5, 0.999) for both players, one D step per G step -- with the
non-saturating loss (Goodfellow et al. 2014) and one-sided label smoothing of the real
targets to 0.9 (Salimans et al. 2016).

``Trainer``'s arguments default to these, and a training run (``minigan.app.run``'s
``LOSS_DEFAULTS``) starts each BCE loss from them.
"""

LOSS = "non-saturating"
OPTIMIZER = "adam"
LR = 2e-4                      # both players' learning rate (lr_d and lr_g)
ADAM_BETAS = (0.5, 0.999)
REAL_LABEL = 0.9               # the BCE target for real images
D_STEPS = 1                    # D updates per G update
SEED = 0
