"""GAN objectives: loss values and handwritten gradients w.r.t. the discriminator's outputs.

Every objective works on D's *raw* outputs -- logits for the BCE objectives, unbounded
scores for LSGAN, hinge and WGAN -- arrays of shape (N, 1) (any shape works: every mean
is over all elements). Notation: r = D(x) on a real batch (N_r elements), f = D(G(z)) on
a fake batch (N_f elements), sigma the logistic sigmoid, mean over all elements.

    objective        D minimises                          G minimises
    non-saturating   BCE(r, 1) + BCE(f, 0)                BCE(f, 1) = mean(-log sigma(f))
    minimax          BCE(r, 1) + BCE(f, 0)                mean(log(1 - sigma(f))) = -BCE(f, 0)
    lsgan            1/2 mean((r-b)^2) + 1/2 mean((f-a)^2)  1/2 mean((f-c)^2)
    hinge            mean(relu(1-r)) + mean(relu(1+f))    -mean(f)
    wgan             mean(f) - mean(r)                    -mean(f)
    wgan-gp          mean(f) - mean(r) + gradient penalty  -mean(f)

``d_loss(real_out, fake_out, real_label=1.0, fake_label=0.0)`` returns
``{"loss", "loss_real", "loss_fake"}`` (Python floats, loss = loss_real + loss_fake) and
``{"grad_real", "grad_fake"}``: d loss / d real_out and d loss / d fake_out, arrays of the
outputs' shape and dtype. ``g_loss(fake_out)`` returns ``{"loss", "grad_fake"}``. The
gradients are what ``D.backward`` receives. Only the returned scalars leave the device
(one sync each). Attributes a trainer reads:

- ``clip_value``: WGAN's weight-clipping bound, to clip D's parameters to
  [-clip_value, clip_value] after each D step; None for the others.
- ``gp_weight``, ``gp_target``: WGAN-GP's penalty lambda * mean (||grad_x D(x_hat)|| - target)^2
  on interpolates x_hat, for the trainer to add to the critic's loss
  (``minigan.gan.penalties``); gp_weight is None for the others.
- ``critic``: True when D is a critic whose mean(r) - mean(f) estimates the
  Wasserstein-1 distance (wgan, wgan-gp); the trainer reports it.
- ``sigmoid_outputs``: True when D's outputs are logits of P(real) (the BCE objectives),
  so that mean sigmoid(D(x)) is a meaningful "D(x)" to report.
- ``uses_labels``: whether ``real_label`` / ``fake_label`` (label smoothing, LSGAN codes)
  change anything; hinge and WGAN ignore them.

``d_real(real_out, real_label)`` / ``d_fake(fake_out, fake_label)`` return d_loss's two
terms one at a time as (float, gradient), for a trainer that runs D on the real and
the fake batch one after the other (each forward followed by its backward);
``mean_output(out)`` is the "D(x)" to report (mean sigmoid for BCE objectives).
``get_objective(name, **options)`` builds one by name.
"""

import inspect

from .. import backend
from .. import functional as F
from ..errors import ConfigError
from ..validate import check_floating, finite_number


class Objective:
    """Base class: a GAN loss pair on D's raw outputs (see the module docstring)."""

    name = None
    clip_value = None
    gp_weight = None
    gp_target = None
    critic = False
    sigmoid_outputs = False
    uses_labels = True

    def d_loss(self, real_out, fake_out, real_label=1.0, fake_label=0.0):
        """The discriminator's (critic's) loss and its gradients w.r.t. both outputs."""
        _check_output(self, "real_out", real_out)
        _check_output(self, "fake_out", fake_out)
        real_label = self._check_label("real_label", real_label)
        fake_label = self._check_label("fake_label", fake_label)
        loss_real, grad_real = self._d_real(real_out, real_label)
        loss_fake, grad_fake = self._d_fake(fake_out, fake_label)
        loss_real, loss_fake = float(loss_real), float(loss_fake)
        return {"loss": loss_real + loss_fake, "loss_real": loss_real, "loss_fake": loss_fake,
                "grad_real": grad_real, "grad_fake": grad_fake}

    def g_loss(self, fake_out):
        """The generator's loss and its gradient w.r.t. D(G(z)) (to pass to D.backward)."""
        _check_output(self, "fake_out", fake_out)
        loss, grad = self._g(fake_out)
        return {"loss": float(loss), "grad_fake": grad}

    # one term at a time: a Module keeps one forward's cache, so a trainer that runs
    # D(real) -> backward, then D(fake) -> backward needs the two D terms separately
    def d_real(self, real_out, real_label=1.0):
        """(loss_real as a float, d loss_real / d real_out): d_loss's real term alone."""
        _check_output(self, "real_out", real_out)
        loss, grad = self._d_real(real_out, self._check_label("real_label", real_label))
        return float(loss), grad

    def d_fake(self, fake_out, fake_label=0.0):
        """(loss_fake as a float, d loss_fake / d fake_out): d_loss's fake term alone."""
        _check_output(self, "fake_out", fake_out)
        loss, grad = self._d_fake(fake_out, self._check_label("fake_label", fake_label))
        return float(loss), grad

    def mean_output(self, out):
        """What to report as "D(x)": mean sigmoid(out) (a probability) for the BCE
        objectives, the mean raw score otherwise. A Python float."""
        _check_output(self, "out", out)
        if self.sigmoid_outputs:
            return float(F.sigmoid_forward(out)[0].mean())
        return float(out.mean())

    # subclasses define (value as 0-d array, gradient) for each term
    def _d_real(self, out, label):
        raise NotImplementedError

    def _d_fake(self, out, label):
        raise NotImplementedError

    def _g(self, out):
        raise NotImplementedError

    def _check_label(self, name, value):
        return finite_number(repr(self), name, value)

    def __repr__(self):
        return f"{type(self).__name__}()"


class _BCEObjective(Objective):
    """Shared D loss of the two BCE objectives (Goodfellow et al. 2014).

    D:  BCE(r, y_r) + BCE(f, y_f), BCE(z, y) = mean(max(z, 0) - z y + log(1 + exp(-|z|)))
        (the stable form of -[y log sigma(z) + (1-y) log(1 - sigma(z))], exact at +-1e4);
        d/dz = (sigma(z) - y) / N per element.
    Labels are targets in [0, 1]: real_label=0.9 is one-sided label smoothing.
    """

    sigmoid_outputs = True

    def _check_label(self, name, value):
        value = super()._check_label(name, value)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"{self!r}: {name} is a BCE target and must lie in [0, 1], "
                              f"got {value!r}")
        return value

    def _d_real(self, out, label):
        return _bce(out, label)

    def _d_fake(self, out, label):
        return _bce(out, label)


class NonSaturating(_BCEObjective):
    """Non-saturating GAN loss (Goodfellow et al. 2014, the one used in practice).

    G:  BCE(f, 1) = mean(-log sigma(f)) = mean(softplus(-f));
        d/df = (sigma(f) - 1) / N_f  ->  -1/N_f as D(G(z)) = sigma(f) -> 0: strong
        gradients exactly when the generator is losing.
    Optimal D: p_data / (p_data + p_g) (as minimax). Against it, G's gradient is that of
    KL(p_g || p_data) - 2 JSD(p_data || p_g) (Arjovsky & Bottou 2017): the reverse KL makes
    dropping a mode cheap and producing non-data expensive (docs/gan_math.md).
    """

    name = "non-saturating"

    def _g(self, out):
        return _bce(out, 1.0)


class Minimax(_BCEObjective):
    """The original (saturating) minimax GAN loss (Goodfellow et al. 2014).

    G:  mean(log(1 - sigma(f))) = -BCE(f, 0) = -mean(softplus(f));
        d/df = -sigma(f) / N_f (the negated BCE-with-target-0 gradient).
    Saturation: early in training D rejects the fakes, sigma(f) = D(G(z)) -> 0, so the
    gradient -sigma(f) -> 0 and the generator stops learning (e.g. f = -30 gives about
    -1e-13 per element, against -1 for the non-saturating loss).
    """

    name = "minimax"

    def _g(self, out):
        value, grad = _bce(out, 0.0)
        grad *= -1
        return -value, grad


class LSGAN(Objective):
    """Least-squares GAN (Mao et al. 2017), on raw outputs (no sigmoid).

    D:  1/2 mean((r - b)^2) + 1/2 mean((f - a)^2), b = real_label (1), a = fake_label (0);
        d/dr = (r - b) / N_r, d/df = (f - a) / N_f.
    G:  1/2 mean((f - c)^2), c = ``generator_target`` (1, the 0-1 coding of the paper);
        d/df = (f - c) / N_f.
    Optimal D: (b p_data + a p_g) / (p_data + p_g). With the codes a = -1, b = 1, c = 0, G
    then minimises half the Pearson chi^2 divergence between p_data + p_g and 2 p_g (Mao et
    al. 2017); the default 0-1 coding is the paper's other choice, not of that form.
    """

    name = "lsgan"

    def __init__(self, generator_target=1.0):
        self.generator_target = finite_number("LSGAN", "generator_target", generator_target)

    def _d_real(self, out, label):
        return _half_mse(out, label)

    def _d_fake(self, out, label):
        return _half_mse(out, label)

    def _g(self, out):
        return _half_mse(out, self.generator_target)

    def __repr__(self):
        return f"LSGAN(generator_target={self.generator_target})"


class Hinge(Objective):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018; SAGAN, Zhang et al. 2019).

    D:  mean(relu(1 - r)) + mean(relu(1 + f));
        d/dr = -[r < 1] / N_r, d/df = [f > -1] / N_f.
        At the kinks (r = 1, f = -1) the gradient is 0, as PyTorch's relu'(0) = 0.
    G:  -mean(f); d/df = -1 / N_f.
    real_label / fake_label are ignored (the margins are fixed at +-1).
    Optimal D: sign(p_data - p_g), where D's loss is 2 - 2 TV(p_data, p_g): the zero-sum
    game measures the total variation distance (Lim & Ye 2017). G's -mean(f) is SAGAN's
    surrogate for the zero-sum -mean(relu(1 + f)): the same gradient where f > -1.
    """

    name = "hinge"
    uses_labels = False

    def _d_real(self, out, label):
        xp = backend.xp
        value = xp.maximum(1 - out, 0).mean()
        grad = (out < 1).astype(out.dtype)
        grad *= -1 / out.size
        return value, grad

    def _d_fake(self, out, label):
        xp = backend.xp
        value = xp.maximum(1 + out, 0).mean()
        grad = (out > -1).astype(out.dtype)
        grad *= 1 / out.size
        return value, grad

    def _g(self, out):
        return -out.mean(), _constant_like(out, -1 / out.size)


class WGAN(Objective):
    """Wasserstein GAN (Arjovsky et al. 2017), weight clipping variant.

    Critic:  mean(f) - mean(r)  (minimising it maximises the estimate
             mean(r) - mean(f) of the Wasserstein-1 distance);
             d/dr = -1 / N_r, d/df = 1 / N_f. loss_real = -mean(r), loss_fake = mean(f).
    G:       -mean(f); d/df = -1 / N_f.
    ``clip_value`` (0.01): clip every critic parameter to [-c, c] after each critic step
    (the Lipschitz constraint). Labels do not apply (no targets): they are ignored.
    The paper uses RMSprop and 5 critic steps per G step.
    Optimal critic: over 1-Lipschitz functions, the maximum of mean(r) - mean(f) is the
    Wasserstein-1 distance W1(p_data, p_g) (Kantorovich-Rubinstein), attained by a
    potential, not a pointwise formula; G's gradient against it is that of W1, which keeps
    shrinking as the distributions approach even with disjoint supports. Clipping makes the
    critic K-Lipschitz for an unknown K, so mean(r) - mean(f) estimates K W1.
    """

    name = "wgan"
    uses_labels = False
    critic = True

    def __init__(self, clip_value=0.01):
        self.clip_value = finite_number("WGAN", "clip_value", clip_value, above=0,
                                        expected="a positive finite number")

    def _d_real(self, out, label):
        return -out.mean(), _constant_like(out, -1 / out.size)

    def _d_fake(self, out, label):
        return out.mean(), _constant_like(out, 1 / out.size)

    def _g(self, out):
        return -out.mean(), _constant_like(out, -1 / out.size)

    def __repr__(self):
        return f"WGAN(clip_value={self.clip_value})"


class WGANGP(WGAN):
    """Wasserstein GAN with a gradient penalty (Gulrajani et al. 2017), no clipping.

    Critic:  mean(f) - mean(r) + lambda * mean_n (||grad_x D(x_hat)_n|| - target)^2 on
             x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample. The first two terms
             are WGAN's (their gradients as there); the penalty -- differentiated twice by
             ``minigan.gan.penalties`` -- is added by the trainer, which reads
             ``gp_weight`` (lambda, 10) and ``gp_target`` (1).
    G:       -mean(f), as WGAN's.
    The paper's other settings: 5 critic steps per G step, Adam(lr 1e-4, betas (0, 0.9)),
    and no BatchNorm in the critic (LayerNorm instead: ``dcgan_critic``).
    """

    name = "wgan-gp"

    def __init__(self, weight=10.0, target=1.0):
        weight, target = (finite_number("WGANGP", what, value, minimum=0,
                                        expected="a finite number >= 0")
                          for what, value in (("weight", weight), ("target", target)))
        self.clip_value = None                      # the penalty replaces the clipping
        self.gp_weight, self.gp_target = weight, target

    def __repr__(self):
        return f"WGANGP(weight={self.gp_weight}, target={self.gp_target})"


OBJECTIVES = {cls.name: cls for cls in (NonSaturating, Minimax, LSGAN, Hinge, WGAN, WGANGP)}
"""name -> Objective class, the names ``get_objective`` and the CLI's ``--loss`` accept."""


def get_objective(name, **options):
    """The objective called ``name`` ("non-saturating", "minimax", "lsgan", "hinge",
    "wgan", "wgan-gp"; case and "_" / "-" do not matter), built with ``options`` (e.g.
    ``clip_value=0.05`` for "wgan", ``generator_target`` for "lsgan", ``weight`` and
    ``target`` for "wgan-gp"). An ``Objective``
    instance is returned as is (without options)."""
    if isinstance(name, Objective) and not options:
        return name
    valid = ", ".join(repr(n) for n in OBJECTIVES)
    key = name.strip().lower().replace("_", "-") if isinstance(name, str) else None
    if key not in OBJECTIVES:
        raise ConfigError(f"get_objective: unknown GAN objective {name!r}: expected one of "
                          f"{valid}")
    cls = OBJECTIVES[key]
    accepted = [p for p in inspect.signature(cls).parameters]
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise ConfigError(f"get_objective: objective {key!r} takes no option(s) {unknown}; "
                          f"it accepts {accepted or 'no options'}")
    return cls(**options)


# -- the elementwise pieces (values as 0-d arrays, gradients of the mean) -------------------

def _bce(out, target):
    """mean BCE-with-logits against a constant target; gradient (sigma(z) - y) / N."""
    value, cache = F.bce_with_logits_forward(out, target)
    return value, F.bce_with_logits_backward(cache)


def _half_mse(out, target):
    """1/2 mean((z - t)^2); gradient (z - t) / N."""
    diff = out - target
    value = (diff * diff).mean() * 0.5
    diff *= 1 / out.size
    return value, diff


def _constant_like(out, value):
    return backend.xp.full(out.shape, value, dtype=out.dtype)


def _check_output(objective, name, out):
    check_floating(repr(objective), name, out, "of D's outputs (N, 1)")
