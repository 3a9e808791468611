"""The GAN training loop, with every gradient path visible.

One ``Trainer.step(real)``:

    D step (d_steps times):  x_fake = G(z)                       (no G backward)
                             loss_D = L_real(D(x_real)) + L_fake(D(x_fake))
                             backward through D only (one pass per batch, since
                             BatchNorm sees real and fake batches separately);
                             D optimizer step
    G step:                  x_fake = G(z')
                             loss_G = L_G(D(x_fake))
                             g_x = D.backward(dL_G/dD)   <- the gradient reaches G
                                                           *through* D, which is frozen:
                                                           no D weight gradients computed
                             G.backward(g_x); G optimizer step

D stays in training mode during the G step ("frozen" never means eval mode).

While a step runs, ``trainer.phase`` names the part running (``PHASES``) and
``trainer.d_step_index`` which D step it is (None in the G step), so whoever watches the
networks run -- module hooks, ``minigan.inspect`` -- knows what each pass is for:
"d_fake" (G making a D step's fakes, and D's pass over them), "d_real" (D's pass over the
real batch), "r1" and "gradient_penalty" (a penalty's passes), "g" (the G step). Both
are None between steps.

Gradient penalties (``minigan.gan.penalties``, double backprop): the "wgan-gp" objective
adds lambda * mean (||grad_x D(x_hat)|| - 1)^2 on interpolates x_hat = eps x_real +
(1 - eps) x_fake, eps ~ U[0, 1] per sample, after the fake batch's backward; ``r1=gamma``
adds gamma/2 * mean ||grad_x D(x_real)||^2 after the real batch's backward (BCE
objectives). Each adds its gradient into D's .grad before the D optimizer step.

Techniques (each off unless stated): one-sided label smoothing (``real_label=0.9``,
on by default), two-sided smoothing (``fake_label > 0``), instance noise with a
linearly decaying standard deviation, feature matching as the generator objective,
an experience-replay buffer of past fakes, historical averaging, WGAN weight clipping
(switched on by the "wgan" objective), the WGAN-GP and R1 gradient penalties.
"""

from .. import backend, engine
from ..errors import ConfigError, DTypeError, ShapeError
from ..nn.second_order import layer_paths
from ..optim import make_optimizer
from ..validate import check_finite, check_floating, finite_number, is_int, positive_int
from . import sampling, trainer_state
from . import training_defaults as defaults
from .finite_state import check_gradient, check_weights, grad_norm, require_finite
from .models import is_conditional
from .noise_streams import (
    D_FAKE_INSTANCE_NOISE,
    D_INTERPOLATION,
    D_LABELS,
    D_NOISE,
    D_REAL_INSTANCE_NOISE,
    D_REPLAY,
    G_INSTANCE_NOISE,
    G_LABELS,
    G_NOISE,
    d_stream,
    stream_rng,
)
from .packing import check_pack, check_packed_batch, pack, unpack
from .penalties import double_backprop, gradient_penalty_term, r1_term
from .sampling import generate
from .techniques import (
    HistoricalAverage,
    ReplayBuffer,
    add_instance_noise,
    clip_weights,
    feature_matching_gradient,
    instance_noise_std,
)
from .validate_trainer import (
    check_betas,
    check_feature_matching,
    check_models,
    check_r1,
    infer_latent_dim,
    objective_by_name,
)

PHASES = ("d_real", "d_fake", "r1", "gradient_penalty", "g")
"""The names ``trainer.phase`` takes during a step (see the module docstring)."""


class Trainer:
    """Alternating D and G updates with Adam or RMSprop (separate learning rates: two
    time-scale).

    G, D: modules; D returns one logit (or critic score) per sample, (N, 1).
    loss: "non-saturating" (default), "minimax", "lsgan", "hinge", "wgan" or "wgan-gp"
        (or an Objective, e.g. ``get_objective("wgan-gp", weight=5.0)``).
    real_label / fake_label: BCE targets (one-sided smoothing 0.9 by default; a
        fake_label > 0 is two-sided smoothing); LSGAN uses them as its targets.
    d_steps: D updates per G update (k in Goodfellow et al.).
    optimizer: "adam" (default; ``betas`` apply) or "rmsprop" (WGAN's; ``betas`` ignored).
    instance_noise: initial std of Gaussian noise added to every image D sees,
        decaying linearly to 0 over ``instance_noise_steps`` generator steps.
    feature_matching: None, or the index of a layer of the Sequential D; G then
        minimises ||mean f(G(z)) - mean f(x)||^2 of that layer's output f.
    replay_size / replay_fraction: keep up to replay_size past fakes and replace
        that fraction of each D step's fake batch by samples from them.
    historical_averaging: weight l of l * ||theta - mean of past theta||^2, added to
        both players' losses.
    r1: gamma of the R1 penalty gamma/2 * mean ||grad_x D(x_real)||^2 (Mescheder et al.
        2018) added to D's loss; 0 (default) for none; with the BCE objectives only.
        With r1 or "wgan-gp", D must act on each sample alone (no BatchNorm:
        ``dcgan_critic``); another D is refused with a ConfigError naming the layer.
    pack: PacGAN's packing (``minigan.gan.packing``): D judges m = pack samples at once.
        The batch given to ``step`` then holds m * B samples; consecutive groups of m
        (samples i*m .. i*m + m - 1) are concatenated along the last axis into one input
        of D, (m*B, F) -> (B, m*F); each D step draws m * B fakes from G and packs them
        the same way, and so does the G step. Every loss, penalty and technique then
        applies to D's B packed inputs (instance noise is added per sample before
        packing). 1 (default): no packing.
    seed: fixes all noise; a run is reproducible from (seed, step).

    Every argument is checked here (a ``ConfigError`` naming ``Trainer`` and the
    argument); ``step`` checks the real batch once (floating, NHWC or (N, F), non-empty, finite)
    and then runs G and D through their unchecked ``run_forward`` (hooks fire, see
    ``minigan.nn.hooks``), naming each part of the step in ``phase``.
    """

    def __init__(self, G, D, loss=defaults.LOSS, lr_d=defaults.LR, lr_g=defaults.LR,
                 betas=defaults.ADAM_BETAS, real_label=defaults.REAL_LABEL,
                 d_steps=defaults.D_STEPS, seed=defaults.SEED, *,
                 latent_dim=None, fake_label=0.0, instance_noise=0.0,
                 instance_noise_steps=5000, feature_matching=None, replay_size=0,
                 replay_fraction=0.5, historical_averaging=0.0, r1=0.0,
                 optimizer=defaults.OPTIMIZER, pack=1):
        check_models(G, D)
        self.pack = check_pack(pack, G, D)
        self.G, self.D = G, D
        self.objective = objective_by_name(loss)
        self.r1 = check_r1(r1, self.objective)
        if self.r1 or self.objective.gp_weight is not None:
            layer_paths(D, "Trainer")  # a D a penalty cannot differentiate is refused now
        lr_d = finite_number("Trainer", "lr_d", lr_d, minimum=0)
        lr_g = finite_number("Trainer", "lr_g", lr_g, minimum=0)
        betas = check_betas(betas)
        real_label = finite_number("Trainer", "real_label", real_label, minimum=0, maximum=1)
        fake_label = finite_number("Trainer", "fake_label", fake_label, minimum=0, maximum=1)
        self.real_label, self.fake_label = real_label, fake_label
        self.d_steps = positive_int("Trainer", "d_steps", d_steps)
        if not is_int(seed):
            raise ConfigError(f"Trainer: seed must be an int, got {seed!r}")
        self.seed = int(seed)
        self.latent_dim = (infer_latent_dim(G) if latent_dim is None
                           else positive_int("Trainer", "latent_dim", latent_dim))
        self.instance_noise = finite_number("Trainer", "instance_noise", instance_noise,
                                            minimum=0)
        self.instance_noise_steps = positive_int("Trainer", "instance_noise_steps",
                                                 instance_noise_steps)
        self.feature_matching = check_feature_matching(feature_matching, D)
        if not is_int(replay_size) or replay_size < 0:
            raise ConfigError(f"Trainer: replay_size must be an int >= 0 (0: no replay), "
                              f"got {replay_size!r}")
        replay_fraction = finite_number("Trainer", "replay_fraction", replay_fraction,
                                        minimum=0, maximum=1)
        historical_averaging = finite_number("Trainer", "historical_averaging",
                                             historical_averaging, minimum=0)
        self.opt_d = make_optimizer("Trainer", optimizer, D.parameters(), lr_d, betas)
        self.opt_g = make_optimizer("Trainer", optimizer, G.parameters(), lr_g, betas)
        self.optimizer = optimizer
        self.replay = ReplayBuffer(replay_size, replay_fraction) if replay_size else None
        self.averages = ([HistoricalAverage(D.parameters()), HistoricalAverage(G.parameters())]
                         if historical_averaging else None)
        self.historical_averaging = historical_averaging
        self.step_count = 0
        self.phase = None          # the part of the step running now (PHASES), else None
        self.d_step_index = None   # which D step is running (0..d_steps-1), else None

    # -- noise --------------------------------------------------------------
    def _rng(self, stream):
        """A generator for (seed, step, stream) (``minigan.gan.noise_streams``)."""
        return stream_rng(self.seed, self.step_count, stream)

    def noise(self, n, stream=0):
        """z ~ N(0, I), (n, latent_dim), in the generator's dtype."""
        dtype = self.G.parameters()[0].dtype
        return self._rng(stream).standard_normal((n, self.latent_dim), dtype=dtype)

    def _random_labels(self, n, stream):
        return self._rng(stream).integers(0, self.G.num_classes, size=n)

    def _with_instance_noise(self, images, stream):
        std = instance_noise_std(self.instance_noise, self.step_count, self.instance_noise_steps)
        return images if std == 0 else add_instance_noise(images, std, self._rng(stream))

    # -- one training step --------------------------------------------------
    def step(self, real, labels=None, *, update="both"):
        """One G update after ``d_steps`` D updates on the batch ``real``: images
        (N, H, W, C) such as MNIST's (N, 28, 28, 1), or vectors (N, F) such as the 1-D lab's.

        labels: class labels (N,) for conditional models, else None.
        Returns floats: loss_d, loss_d_real, loss_d_fake, loss_g, d_real, d_fake
        (mean D output as a probability for BCE objectives, raw score otherwise),
        grad_norm_d, grad_norm_g, instance_noise, step; with a gradient penalty also
        penalty (included in loss_d) and grad_norm_x (the mean ||grad_x D|| it was taken
        of); for the WGAN critics wasserstein = d_real - d_fake. The D numbers are those of
        the last D step.

        update: "both" (the step above), "d" (only the D updates) or "g" (only the G
        update), to watch the two halves one at a time (the GAN lab's step buttons); a
        half step returns only its own numbers and advances ``step_count`` like a step,
        so the next one draws fresh noise.
        """
        if update not in ("both", "d", "g"):
            raise ConfigError(f"Trainer.step: update must be 'both', 'd' or 'g', got {update!r}")
        labels = self._check_batch(real, labels)
        check_packed_batch(real, self.pack, self.D)
        n = real.shape[0]
        d_stats = g_stats = {}
        try:
            with engine.region():  # the CPU engine holds the cores for the whole step
                for k in range(self.d_steps if update != "g" else 0):
                    self.d_step_index = k
                    d_stats = self._d_step(real, labels, stream=d_stream(k))
                self.d_step_index = None
                if update != "d":
                    g_stats = self._g_step(real, labels, n)
        finally:
            self.phase = self.d_step_index = None
        self.step_count += 1
        return {**d_stats, **g_stats, "step": self.step_count,
                "instance_noise": instance_noise_std(self.instance_noise, self.step_count - 1,
                                                     self.instance_noise_steps)}

    def _check_batch(self, real, labels):
        """The real batch: floating NHWC images or (N, F) vectors, non-empty, finite (one
        pass, one host sync); labels (N,) integers in range exactly when the models are
        conditional. Returns the labels on the active backend."""
        where = "Trainer.step"
        check_floating(where, "real", real, "(N, H, W, C) NHWC")
        if real.ndim not in (2, 4):  # images, or feature vectors such as the 1-D lab's (N, 1)
            raise ShapeError(f"{where}: real must be a 4-d batch of images (N, H, W, C) NHWC "
                             f"or a 2-d batch of vectors (N, F), got shape {tuple(real.shape)}")
        check_finite(where, "real", real, "finite values (pixels in [-1, 1])")
        conditional = is_conditional(self.G)
        if labels is None:
            if conditional:
                raise ConfigError(f"{where}: the models are conditional and need labels "
                                  f"({real.shape[0]},), got None")
            return None
        if not conditional:
            raise ConfigError(f"{where}: labels were given but the models are not conditional "
                              "(use conditional_generator / conditional_discriminator)")
        if not isinstance(labels, backend.xp.ndarray):
            labels = backend.to_device(labels)
        if labels.dtype.kind not in "iu":
            raise DTypeError(f"{where}: labels must be integer class indices (N,), got dtype "
                             f"{labels.dtype}")
        if tuple(labels.shape) != (real.shape[0],):
            raise ShapeError(f"{where}: labels must have shape ({real.shape[0]},) to match "
                             f"real {tuple(real.shape)}, got {tuple(labels.shape)}")
        return self.D.check_labels(labels)  # the range: once per step; the passes skip it

    def _d_step(self, real, labels, stream):
        n = real.shape[0]
        fake_labels = None if labels is None else self._random_labels(n, stream + D_LABELS)
        self.phase = "d_fake"
        fake = self._generate(self.noise(n, stream + D_NOISE), fake_labels)  # G's cache: unused
        if self.replay is not None:
            fake, fake_labels = self.replay.mix(fake, fake_labels, self._rng(stream + D_REPLAY))
        self.D.zero_grad()
        # real and fake go through D separately, each backward right after its forward
        seen_real = pack(self._with_instance_noise(real, stream + D_REAL_INSTANCE_NOISE),
                         self.pack)
        self.phase = "d_real"
        out_real = self._discriminate(seen_real, labels)
        loss_real, grad_real = self.objective.d_real(out_real, self.real_label)
        self.D.run_backward(grad_real, need_input_grad=False)  # D's first layer: no input grad
        penalty = None
        if self.r1:
            self.phase = "r1"
            penalty = self._r1_penalty(seen_real)
        seen_fake = pack(self._with_instance_noise(fake, stream + D_FAKE_INSTANCE_NOISE),
                         self.pack)
        self.phase = "d_fake"
        out_fake = self._discriminate(seen_fake, fake_labels)
        loss_fake, grad_fake = self.objective.d_fake(out_fake, self.fake_label)
        self.D.run_backward(grad_fake, need_input_grad=False)
        if self.objective.gp_weight is not None:
            self.phase = "gradient_penalty"
            penalty = self._gradient_penalty(seen_real, seen_fake, stream + D_INTERPOLATION)
        penalty_value = 0.0 if penalty is None else penalty.value
        norm = self._update(0, loss_real=loss_real, loss_fake=loss_fake, penalty=penalty_value)
        stats = {"loss_d": loss_real + loss_fake + penalty_value, "loss_d_real": loss_real,
                 "loss_d_fake": loss_fake, "d_real": self.objective.mean_output(out_real),
                 "d_fake": self.objective.mean_output(out_fake), "grad_norm_d": norm}
        if penalty is not None:  # the penalty, and the mean ||grad_x D|| it was taken of
            stats.update(penalty=penalty_value, grad_norm_x=penalty.mean_norm)
        if self.objective.critic:  # mean D(x) - mean D(G(z)): the Wasserstein-1 estimate
            stats["wasserstein"] = stats["d_real"] - stats["d_fake"]
        return stats

    def _gradient_penalty(self, real, fake, stream):
        """WGAN-GP's penalty on x_hat = eps x_real + (1 - eps) x_fake, one eps ~ U[0, 1] per
        sample; its gradient is added into D's .grad (a PenaltyResult)."""
        eps = self._rng(stream).random((real.shape[0],) + (1,) * (real.ndim - 1),
                                       dtype=real.dtype)
        x_hat = eps * real + (1 - eps) * fake
        return double_backprop(self.D, x_hat, gradient_penalty_term(
            self.objective.gp_weight, self.objective.gp_target), caller="Trainer")

    def _r1_penalty(self, real):
        """R1's penalty on the real batch D has just seen (a PenaltyResult)."""
        return double_backprop(self.D, real, r1_term(self.r1), caller="Trainer")

    def _g_step(self, real, labels, n):
        fake_labels = None if labels is None else self._random_labels(n, G_LABELS)
        self.phase = "g"
        fake = self._generate(self.noise(n, G_NOISE), fake_labels)
        self.D.freeze()  # D's weights get no gradient: only dL/dx is propagated
        try:
            if self.feature_matching is None:
                out = self._discriminate(
                    pack(self._with_instance_noise(fake, G_INSTANCE_NOISE), self.pack),
                    fake_labels)
                result = self.objective.g_loss(out)
                loss_g = result["loss"]
                grad_fake = self.D.run_backward(result["grad_fake"])  # dL_G/dx_fake through D
            else:
                loss_g, grad_fake = self._feature_matching_gradient(pack(real, self.pack),
                                                                    pack(fake, self.pack))
            grad_fake = unpack(grad_fake, self.pack)
        finally:
            self.D.unfreeze()
        self.G.zero_grad()
        self.G.run_backward(grad_fake, need_input_grad=False)  # dL/dz is never needed
        norm = self._update(1, loss=loss_g)
        return {"loss_g": loss_g, "grad_norm_g": norm}

    def _update(self, player, **losses):
        """One player's optimizer step (player 0: D, 1: G) once its gradient is in .grad:
        historical averaging's gradient added, the losses and the gradient norm checked
        finite before any update, the update, the weights checked, WGAN's weight clipping
        (D), the historical average updated. Returns the gradient norm."""
        network, optimizer = (self.D, self.opt_d) if player == 0 else (self.G, self.opt_g)
        name = ("discriminator", "generator")[player]
        average = self.averages[player] if self.averages else None
        parameters = network.parameters()
        if average:
            average.add_penalty_gradient(self.historical_averaging)
        norm = grad_norm(parameters)
        require_finite(self.step_count + 1, name, **losses, gradient_norm=norm)
        check_gradient(self.step_count + 1, name, norm, parameters)
        optimizer.step()
        check_weights(self.step_count + 1, name, parameters)
        if player == 0 and self.objective.clip_value is not None:  # WGAN: critic Lipschitz
            clip_weights(parameters, self.objective.clip_value)
        if average:
            average.update()
        return norm

    def _feature_matching_gradient(self, real, fake):
        """G's feature-matching loss on layer ``feature_matching`` of D, and its gradient
        w.r.t. the fake images (``techniques.feature_matching_gradient``)."""
        return feature_matching_gradient(self.D, self.feature_matching, real, fake)

    # the networks' unchecked forward: step() has checked the real batch once, and a NaN
    # arising inside G or D is caught by the loss and gradient-norm checks
    def _generate(self, z, labels):
        return generate(self.G, z, labels)

    def _discriminate(self, images, labels):
        return self.D.run_forward(images) if labels is None else self.D.run_forward(images, labels)

    # -- sampling -----------------------------------------------------------
    def sample(self, n, z=None, labels=None):
        """n samples from G in eval mode -- images (n, 28, 28, 1) in [-1, 1] for the MNIST
        models, (n, F) for a generator of vectors such as the 1-D lab's (BatchNorm uses its
        running statistics); G's mode is restored afterwards. ``z`` fixes the noise
        (``minigan.gan.sampling``)."""
        return sampling.sample(self, n, z, labels)

    # -- state for checkpoints (minigan.gan.trainer_state) ---------------------
    def state_dict(self):
        """Everything a resumed run needs, as {name: array or number}, flat."""
        return trainer_state.state_dict(self)

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned. All or nothing: when any part does not fit
        (a key missing, a shape that differs), the trainer is left exactly as it was, not
        with G restored and D not."""
        before = self.state_dict()
        try:
            self._load_state_dict(state)
        except BaseException:
            self._load_state_dict(before)
            raise

    def _load_state_dict(self, state):  # what a subclass extends (ProgressiveTrainer)
        trainer_state.load_parts(self, state)
