"""Stabilisation techniques used by the Trainer, each small enough to read at once.

- ``instance_noise_std``: Gaussian noise on every image D sees (Sønderby et al. 2016),
  with a standard deviation that decays linearly to 0, so the real and fake
  distributions overlap early on and D cannot separate them perfectly.
- ``ReplayBuffer``: D also sees fakes from earlier generators (Shrivastava et al.
  2017), which discourages G and D from chasing each other around in circles.
- ``HistoricalAverage``: adds l * ||theta - mean of past theta||^2 to a player's loss
  (Salimans et al. 2016); its gradient 2 l (theta - mean) pulls parameters back
  toward their history and damps oscillation.
- ``add_instance_noise``, ``clip_weights`` (WGAN's weight clipping, Arjovsky et al. 2017)
  and ``feature_matching_gradient`` (Salimans et al. 2016): the few lines by which the
  Trainer applies a technique around its plain step.
"""

from .. import backend
from ..errors import ConfigError


def instance_noise_std(initial_std, step, decay_steps):
    """sigma_t = sigma_0 * max(0, 1 - t / decay_steps)."""
    if initial_std == 0:
        return 0.0
    return initial_std * max(0.0, 1.0 - step / decay_steps)


def add_instance_noise(images, std, rng):
    """images + std * N(0, I) drawn from ``rng`` (the caller skips it, and the generator,
    when std is 0)."""
    return images + std * rng.standard_normal(images.shape, dtype=images.dtype)


def clip_weights(parameters, clip_value):
    """WGAN's weight clipping, in place: every weight into [-c, c] keeps the critic
    Lipschitz."""
    for p in parameters:
        backend.xp.clip(p.data, -clip_value, clip_value, out=p.data)


def feature_matching_gradient(D, layer, real, fake):
    """G's loss ||mean_n f(G(z)) - mean_n f(x)||^2 on the output f of layer ``layer`` of
    the Sequential D, and its gradient w.r.t. the fake images."""
    head = D[: layer + 1]
    target = head.run_forward(real).mean(axis=0)  # the real features' mean: constant for G
    features = head.run_forward(fake)
    difference = features.mean(axis=0) - target
    # d/df_n ||mean f - t||^2 = 2 (mean f - t) / N for every sample n
    grad = backend.xp.broadcast_to(2 * difference / features.shape[0], features.shape)
    return float((difference * difference).sum()), head.run_backward(grad.copy())


class ReplayBuffer:
    """A ring buffer of up to ``capacity`` past fake images (and their labels)."""

    def __init__(self, capacity, fraction=0.5):
        if not (isinstance(capacity, int) and capacity > 0 and 0 <= fraction <= 1):
            raise ConfigError(f"ReplayBuffer: need capacity > 0 and fraction in [0, 1], "
                             f"got {capacity!r}, {fraction!r}")
        self.capacity, self.fraction = capacity, fraction
        self.images = self.labels = None
        self.size = self.position = 0

    def mix(self, fake, labels, rng):
        """Return (fake batch with round(fraction * N) samples replaced by stored
        fakes, matching labels); then store this batch's own fakes."""
        n = fake.shape[0]
        mixed, mixed_labels = fake, labels
        replace = min(round(self.fraction * n), n)
        if self.size and replace:
            picks = rng.integers(0, self.size, size=replace)
            mixed = fake.copy()
            mixed[:replace] = self.images[picks]  # fakes are i.i.d.: the first m will do
            if labels is not None:
                mixed_labels = labels.copy()
                mixed_labels[:replace] = self.labels[picks]
        self._store(fake, labels)
        return mixed, mixed_labels

    def _store(self, fake, labels):
        xp = backend.xp
        if self.images is None:
            self.images = xp.empty((self.capacity,) + tuple(fake.shape[1:]), dtype=fake.dtype)
            if labels is not None:
                self.labels = xp.zeros(self.capacity, dtype=labels.dtype)
        slots = (self.position + xp.arange(fake.shape[0])) % self.capacity
        self.images[slots] = fake
        if labels is not None:
            self.labels[slots] = labels
        self.position = (self.position + fake.shape[0]) % self.capacity
        self.size = min(self.size + fake.shape[0], self.capacity)

    def state_dict(self):
        state = {"size": self.size, "position": self.position}
        if self.images is not None:
            state["images"] = self.images.copy()
        if self.labels is not None:
            state["labels"] = self.labels.copy()
        return state

    def load_state_dict(self, state):
        self.size, self.position = int(state["size"]), int(state["position"])
        self.images = backend.to_device(state["images"]).copy() if "images" in state else None
        self.labels = backend.to_device(state["labels"]).copy() if "labels" in state else None


class HistoricalAverage:
    """The running mean of a list of parameters' past values."""

    def __init__(self, parameters):
        self.parameters = list(parameters)
        self.averages = [p.data.copy() for p in self.parameters]
        self.count = 1

    def add_penalty_gradient(self, weight):
        """p.grad += d/dtheta [weight * ||theta - average||^2] = 2 weight (theta - average)."""
        for p, average in zip(self.parameters, self.averages):
            p.grad += (2 * weight) * (p.data - average)

    def update(self):
        """average_t = average_{t-1} + (theta_t - average_{t-1}) / t."""
        self.count += 1
        for p, average in zip(self.parameters, self.averages):
            average += (p.data - average) / self.count

    def state_dict(self):
        state = {"count": self.count}
        state.update({str(i): a.copy() for i, a in enumerate(self.averages)})
        return state

    def load_state_dict(self, state):
        self.count = int(state["count"])
        self.averages = [backend.to_device(state[str(i)]).astype(p.dtype)
                         for i, p in enumerate(self.parameters)]
