"""The GAN lab's session: a ``minigan.gan.Trainer`` on a 2-D data set, trained in a
background thread, and the pictures (``frame``) the page draws.

    session = LabSession({"data": "ring"})     # networks built, the step-0 picture made
    session.start()                            # the training thread (idle until play)
    session.act("play"); session.act("pause"); session.act("step")   # also d_step, g_step,
    session.update({"loss": "minimax"})        # slow_step, reset; a ConfigError refuses
    session.state()                            # the latest picture, curves, settings
    session.close()

One lock guards the networks: every training step, every change of settings and every
picture takes it, so the HTTP threads and the training thread never see half an update.
Pictures and curves are published as finished objects (``state`` reads them without
waiting for a step). Memory is bounded: the last ``history`` pictures are kept, and the
curves hold at most ``curve_points`` points (``Curves`` halves its resolution when full).

Each picture comes from a watched step (``watch.GTap``): the fakes of the G step and the
gradient that G received for them, which is what ``D.backward`` returned to the trainer
(the arrows: -dloss_G/dx); every step taken by hand and every NORM_EVERY-th picture
while playing is also recorded layer by layer (``minigan.inspect.Recorder``) for the
gradient norms. Between pictures the steps run unwatched. A NaN or infinity
(``NonFiniteError``, raised by the trainer before any update) pauses the run and says so
in ``message``.
"""

import collections
import contextlib
import inspect
import json
import threading
import time

import numpy

from .. import backend, engine
from ..errors import ConfigError, MiniganError, NonFiniteError
from ..gan.trainer import Trainer
from ..inspect import Recorder
from ..optim import SGD
from . import datasets, frame, networks
from . import settings as lab_settings
from .watch import Curves, GTap, layer_norms, number

ACTIONS = ("play", "pause", "step", "d_step", "g_step", "slow_step", "reset")
FRAME_INTERVAL = 1 / 12      # seconds between pictures while playing at full speed
SLOW_PAUSE = 0.8             # seconds between the D and the G half of a slow step
SHOWN = 256                  # points drawn of each batch
NORM_EVERY = 60              # while playing, every 60th picture records the layer norms
STEP_SHARE = 0.6             # share of a picture's interval spent on unrecorded steps
BETAS = (0.5, 0.999)


def packing_available():
    return "pack" in inspect.signature(Trainer).parameters


class LabSession:
    """The lab's state: settings, data, trainer, pictures. See the module docstring."""

    def __init__(self, settings=None, *, history=200, curve_points=1000,
                 resolution=frame.RESOLUTION, frame_interval=FRAME_INTERVAL):
        self.lock = threading.RLock()
        self._view = threading.RLock()
        self._changed = threading.Condition(self._view)
        self._json_cache = None
        self.resolution, self.frame_interval = resolution, frame_interval
        self.frames = collections.deque(maxlen=history)
        self._curve_points = curve_points
        self.settings = lab_settings.validate(lab_settings.DEFAULTS, settings or {})
        self.clicked = None
        self.data = datasets.make(self.settings["data"])
        self.running, self.message, self.notice = False, "", ""
        self.version = 0
        self._closed, self._wake = threading.Event(), threading.Event()
        self._thread, self._due = None, None
        self._restart(self.settings)

    # -- building ------------------------------------------------------------
    def _pack(self, settings):
        if not settings["packing"]:
            return 1
        if not packing_available():
            raise ConfigError("packing: this minigan's Trainer has no pack option")
        return lab_settings.PACK

    def _make_trainer(self, s, G, D, previous=None):
        """A Trainer for settings ``s`` on G and D; with ``previous`` (same networks), its
        step count and, for the same optimizer, its optimizer state carry over."""
        half_width = (self.data.extent[1] - self.data.extent[0]) / 2
        options = dict(loss=s["loss"], lr_d=s["lr_d"], lr_g=s["lr_g"], betas=BETAS,
                       real_label=lab_settings.LABEL_SMOOTHING if s["label_smoothing"]
                       else 1.0, d_steps=s["k"], seed=s["seed"],
                       instance_noise=(lab_settings.INSTANCE_NOISE * half_width
                                       if s["instance_noise"] else 0.0),
                       instance_noise_steps=10**12,  # constant while switched on
                       r1=lab_settings.R1_GAMMA if s["r1"] else 0.0)
        pack = self._pack(s)
        if pack > 1:
            options["pack"] = pack
        trainer = Trainer(G, D, **options)
        if s["optimizer"] == "sgd":
            trainer.opt_d = SGD(D.parameters(), lr=s["lr_d"])
            trainer.opt_g = SGD(G.parameters(), lr=s["lr_g"])
        if previous is not None:
            trainer.step_count = previous.step_count
            if type(previous.opt_d) is type(trainer.opt_d):
                for new, old, lr in ((trainer.opt_d, previous.opt_d, s["lr_d"]),
                                     (trainer.opt_g, previous.opt_g, s["lr_g"])):
                    new.load_state_dict(old.state_dict())
                    new.lr = lr
        return trainer, pack

    def _restart(self, s):
        """New networks and trainer for settings ``s`` (nothing changes if it fails)."""
        G, D = networks.build(s, self._pack(s))
        trainer, pack = self._make_trainer(s, G, D)
        self.trainer, self.pack, self.settings = trainer, pack, s
        self._data_rng = numpy.random.default_rng(s["seed"] + 7919)
        self._z_view = numpy.random.default_rng(s["seed"] + 104729).standard_normal(
            (frame.METRIC_SAMPLES, s["latent_dim"]))
        self.last_stats, self._real = {}, self.data.sample(SHOWN, self._data_rng)
        self._pictures, self._norms, self.last_tap = 0, None, None
        with self._view:
            self.frames.clear()
            self.curves = Curves(self._curve_points)
            self.metric_curve = Curves(self._curve_points)
        self._publish(self._picture(None, None, "start"))

    # -- the controls ------------------------------------------------------------
    def update(self, changes):
        """Apply a settings change (a dict); returns {"restarted", "message"}. Raises
        ConfigError, leaving everything as it was, when a value or combination is bad."""
        with self.lock:
            new = lab_settings.validate(self.settings, changes)
            restart = lab_settings.needs_restart(self.settings, new)
            old_data = self.data
            if new["data"] != self.settings["data"]:
                self.data = datasets.make(new["data"], self.clicked)
            try:
                if restart:
                    self._restart(new)
                    self.notice = (f"restarted with new networks ({', '.join(restart)} "
                                   "changed the networks)")
                else:
                    self.trainer, self.pack = self._make_trainer(new, self.trainer.G,
                                                                 self.trainer.D, self.trainer)
                    self.settings = new
                    self.notice = ("continued from the current weights ("
                                   f"{', '.join(sorted(changes)) or 'nothing'} changed)")
            except MiniganError:
                self.data = old_data
                raise
            if not restart:
                self._real = self.data.sample(SHOWN, self._data_rng)
                self._publish(self._picture(None, None, "settings"))
            return {"restarted": bool(restart), "message": self.notice}

    def set_points(self, points):
        """Train on the clicked ``points`` (a list of [x, y] in [-2, 2]^2) from now on."""
        with self.lock:
            data = datasets.points(points)
            old = (self.data, self.clicked)
            self.data, self.clicked = data, [list(p) for p in data.means.tolist()]
            try:
                result = self.update({"data": "points"}) if self.settings["data"] != "points" \
                    else None
            except MiniganError:
                self.data, self.clicked = old
                raise
            if result is None:
                self._real = self.data.sample(SHOWN, self._data_rng)
                self._publish(self._picture(None, None, "settings"))
            self.notice = f"training on {len(self.clicked)} clicked points"
            return {"restarted": False, "message": self.notice}

    def act(self, action):
        """One of ACTIONS; the step actions pause the run first."""
        if action not in ACTIONS:
            raise ConfigError(f"action: expected one of {', '.join(ACTIONS)}, got {action!r}")
        if action == "play":
            self.message, self.running = "", True
            self._wake.set()
            self._bump()
            return
        with self.lock:
            self.running, self._due = False, None
            self._bump()
            if action == "reset":
                self._restart(self.settings)
                self.notice, self.message = "reset: new networks", ""
            elif action in ("step", "d_step", "g_step", "slow_step"):
                update = {"step": "both", "d_step": "d", "g_step": "g", "slow_step": "d"}[action]
                self.train_step(update, picture=True)
                if action == "slow_step" and not self.message:
                    self._due = time.monotonic() + SLOW_PAUSE  # the G half follows
                    self._wake.set()

    # -- training ----------------------------------------------------------------
    def _real_batch(self):
        real = self.data.sample(self.settings["batch_size"], self._data_rng)
        self._real = real[:SHOWN]
        dtype = self.trainer.G.parameters()[0].data.dtype
        return backend.to_device(real.astype(dtype))

    def train_step(self, update="both", picture=False, norms=None):
        """One trainer step (or its D or G half); with ``picture``, watched and drawn, and
        with ``norms`` (default: for a picture of a single step, and every
        NORM_EVERY-th picture while playing) every layer recorded by
        ``minigan.inspect.Recorder`` for the gradient-norm chart. Returns False when it
        was refused for a NaN (the run is then paused)."""
        with self.lock:
            real = self._real_batch()
            if norms is None:
                norms = picture and (not self.running or self._pictures % NORM_EVERY == 0)
            try:
                with contextlib.ExitStack() as stack:
                    tap = stack.enter_context(GTap(self.trainer)) if picture else None
                    recorder = (stack.enter_context(Recorder(self.trainer, keep_arrays=False))
                                if norms else None)
                    stats = self.trainer.step(real, update=update)
                record = recorder.record(stats) if norms else None
            except NonFiniteError as error:
                self.running, self._due = False, None
                self.message = f"paused: {error}"
                self._bump()
                return False
            self.last_stats.update(stats)
            point = {k: self.last_stats.get(k) for k in ("loss_d", "loss_g", "d_real",
                                                          "d_fake")}
            with self._view:
                self.curves.add({"step": self.trainer.step_count, **point})
            if picture:
                self.last_tap = tap
                self._pictures += 1
                self._publish(self._picture(tap, record, {"both": "step", "d": "d",
                                                          "g": "g"}[update]))
            return True

    def run_steps(self, steps, pictures=0):
        """Train ``steps`` steps here (no thread), drawing ``pictures`` of them evenly;
        returns the pictures (for the export and the benchmark)."""
        marks = set() if not pictures else {
            round((i + 1) * steps / pictures) for i in range(pictures)}
        out = []
        for i in range(1, steps + 1):
            if not self.train_step("both", picture=i in marks):
                break
            if i in marks:
                out.append(self.latest)
        return out

    # -- pictures ------------------------------------------------------------------
    def _picture(self, tap, record, kind):
        with engine.region():  # the CPU engine holds the cores, as for a training step
            return self._draw(tap, record, kind)

    def _draw(self, tap, record, kind):
        t = self.trainer
        fakes = arrows = None
        if tap is not None and tap.gradient is not None:      # a G step ran
            fakes = tap.outputs["g"]
            arrows = -tap.gradient.astype(numpy.float64) * len(tap.gradient)
        elif tap is not None and "d_fake" in tap.outputs:     # a D step alone
            fakes = tap.outputs["d_fake"]
        if record is not None:
            norms = {"step": t.step_count}
            if kind in ("step", "g"):
                norms["G step"] = layer_norms(record, "g", ("D", "G"), 0)
            if kind in ("step", "d"):
                norms["D step"] = layer_norms(record, "d_fake", ("D",), t.d_steps - 1)
            self._norms = norms
        dtype = t.G.parameters()[0].data.dtype
        if fakes is None:
            fakes = backend.to_numpy(t.sample(SHOWN, z=backend.to_device(
                self._z_view[:SHOWN].astype(dtype))))
        fakes = numpy.asarray(fakes, dtype=numpy.float64)[:SHOWN]
        if arrows is None:
            arrows = frame.g_arrows(t, fakes[: len(fakes) - len(fakes) % self.pack], self.pack)
        samples = numpy.asarray(backend.to_numpy(t.sample(
            len(self._z_view), z=backend.to_device(self._z_view.astype(dtype)))),
            dtype=numpy.float64)
        points = frame.plane(self.data.extent, self.resolution)
        scores = frame.discriminator_surface(t, points, samples, self.pack)
        probability = t.objective.sigmoid_outputs
        surface = 1 / (1 + numpy.exp(-numpy.clip(scores, -60, 60))) if probability else scores
        d_star = (frame.optimal_discriminator(self.data, samples, points, self.resolution)
                  if t.objective.name in ("non-saturating", "minimax", "lsgan") else None)
        z, lines = frame.latent_grid(self.settings["latent_dim"])
        curve = numpy.asarray(backend.to_numpy(t.sample(len(z), z=backend.to_device(
            z.astype(dtype)))), dtype=numpy.float64)
        metrics = frame.mode_metrics(self.data, samples)
        if metrics is not None and tap is not None:  # a training step's picture
            with self._view:
                self.metric_curve.add({"step": t.step_count, **metrics})
        stats = {k: number(v) for k, v in self.last_stats.items()}
        return {
            "step": t.step_count, "kind": kind, "extent": list(self.data.extent),
            "data": self.data.describe(), "res": self.resolution,
            "surface": frame.rounded(surface, 3),
            "surface_kind": "probability" if probability else "score",
            "d_star": None if d_star is None else frame.rounded(d_star, 3),
            "real": frame.rounded(self._real, 3), "fake": frame.rounded(fakes, 3),
            "arrows": frame.rounded(arrows[:len(fakes)], 4),
            "manifold": [frame.rounded(curve[idx], 3) for idx in lines],
            "stats": stats, "metrics": metrics, "norms": self._norms, "loss": t.objective.name,
        }

    def _publish(self, picture):
        with self._view:
            self.latest = picture
            self.frames.append(picture)
            self._bump()

    def wait_for_change(self, version, timeout=1.0):
        """Block until ``self.version`` differs from ``version`` (a new picture, a pause,
        a message) or ``timeout`` seconds pass: the page's long poll."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != version or self._closed.is_set(),
                                   timeout=timeout)

    def _bump(self):
        """A change the page must see: a new version, and the long polls wake."""
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    def state_json(self):
        """``state()`` as JSON text, the picture and curves serialised once per picture
        (every client's poll in between gets the same text)."""
        with self._view:
            key = (self.version, self.running, self.message, self.notice)
            if self._json_cache is None or self._json_cache[0] != key:
                self._json_cache = (key, json.dumps(self.state(), allow_nan=False))
            return self._json_cache[1]

    def state(self):
        """What the page needs now (JSON-ready): the latest picture, curves, settings."""
        with self._view:
            return {"version": self.version, "running": self.running,
                    "message": self.message, "notice": self.notice,
                    "settings": dict(self.settings), "clicked": self.clicked,
                    "packing_available": packing_available(),
                    "frame": self.latest, "curves": list(self.curves.points),
                    "metric_curve": list(self.metric_curve.points)}

    # -- the thread --------------------------------------------------------------
    def start(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="minigan-lab",
                                            daemon=True)
            self._thread.start()
        return self

    def close(self):
        self._closed.set()
        self._bump()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self):
        while not self._closed.is_set():
            try:
                if self._due is not None and time.monotonic() >= self._due:
                    with self.lock:
                        if self._due is not None:
                            self._due = None
                            self.train_step("g", picture=True)
                    continue
                if not self.running:
                    wait = 0.05 if self._due is None else max(0.0, self._due - time.monotonic())
                    self._wake.wait(min(wait, 0.05))
                    self._wake.clear()
                    continue
                self._play_slice()
            except Exception as error:  # a bug must not kill the thread silently
                self.running = False
                self.message = f"paused: unexpected {type(error).__name__}: {error}"
                self._bump()

    def _play_slice(self):
        """Steps for one picture's time, then one recorded step and its picture."""
        start = time.monotonic()
        speed = self.settings["speed"]
        steps = max(1, round(speed * self.frame_interval)) if speed else None
        done = 0
        while not self._closed.is_set():
            last = (done + 1 >= steps) if steps else (
                time.monotonic() - start >= STEP_SHARE * self.frame_interval)
            with self.lock:   # a pause that came while we waited for the lock wins
                if not self.running or not self.train_step("both", picture=last) or last:
                    break
            done += 1
        if steps:
            rest = start + steps / speed - time.monotonic()
            if rest > 0:
                self._wake.wait(rest)
                self._wake.clear()
