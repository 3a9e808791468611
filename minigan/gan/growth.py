"""When a progressive GAN grows, and how far its fade has gone: a schedule of plain counters
(Karras et al. 2018, §3).

With ``stage_steps`` N generator steps per phase and S stages (3: 7x7, 14x14, 28x28):

    stage 0        N steps at the lowest resolution (nothing to fade in)
    stage s > 0    a fade of N steps, alpha = 1/N, 2/N, ..., N/N = 1 at the k-th step,
                   then N stabilising steps at alpha = 1
    the last stage stabilises until training ends

The state is two counters -- the stage, and the steps taken in it -- and the alpha of the
last step (what a sample drawn now shows); alpha is a function of the counters, so a run
resumed at any step, mid-fade included, continues exactly.
"""

from ..errors import StateError
from ..validate import is_int, positive_int


class GrowthSchedule:
    """``advance()`` before each generator step moves the counters on (and says whether a
    new stage began); ``stage``, ``stage_step`` (steps taken in the stage, the current one
    included), ``alpha``, ``phase`` ("fade" or "stabilise") describe the step.

    ``stages``: how many resolutions (>= 1). ``stage_steps``: N (>= 1).
    """

    def __init__(self, stage_steps, stages=3):
        self.stage_steps = positive_int("GrowthSchedule", "stage_steps", stage_steps)
        self.stages = positive_int("GrowthSchedule", "stages", stages)
        self.stage, self.stage_step, self.alpha = 0, 0, 1.0

    def length(self, stage):
        """Steps in ``stage``: N for stage 0, 2N (fade, stabilise) for the others; the last
        stage has no end (None)."""
        if stage == self.stages - 1:
            return None
        return self.stage_steps * (1 if stage == 0 else 2)

    def alpha_at(self, stage, stage_step):
        """alpha at the ``stage_step``-th step of ``stage``: k/N during the fade, else 1."""
        if stage == 0 or stage_step >= self.stage_steps:
            return 1.0
        return stage_step / self.stage_steps

    def next(self):
        """(stage, stage_step, alpha, new stage?) of the step about to be taken; the
        counters do not move (``advance`` moves them)."""
        stage, step = self.stage, self.stage_step
        grown = self.length(stage) is not None and step >= self.length(stage)
        if grown:
            stage, step = stage + 1, 0
        return stage, step + 1, self.alpha_at(stage, step + 1), grown

    def advance(self):
        """Move the counters to the step about to be taken; True when it starts a stage."""
        self.stage, self.stage_step, self.alpha, grown = self.next()
        return grown

    @property
    def phase(self):
        return "fade" if self.stage > 0 and self.stage_step <= self.stage_steps else "stabilise"

    def ended(self):
        """True after the last step of a stage that has an end (before the next begins)."""
        length = self.length(self.stage)
        return length is not None and self.stage_step == length

    def state_dict(self):
        return {"stage": self.stage, "stage_step": self.stage_step, "alpha": self.alpha}

    def load_state_dict(self, state):
        """Restore the counters; a state this schedule cannot reach is refused (StateError)."""
        try:
            stage, step, alpha = (state[k] for k in ("stage", "stage_step", "alpha"))
        except KeyError as error:
            raise StateError(f"GrowthSchedule.load_state_dict: the state has no {error}") from None
        if not (is_int(stage) and 0 <= stage < self.stages and is_int(step) and step >= 0):
            raise StateError(f"GrowthSchedule.load_state_dict: expected a stage in "
                             f"[0, {self.stages - 1}] and a step count >= 0, got stage "
                             f"{stage!r}, stage_step {step!r}")
        length = self.length(stage)
        first = step == 0 and stage == 0
        if (step == 0 and not first) or (length is not None and step > length) \
                or alpha != self.alpha_at(stage, max(step, 1)):
            raise StateError(
                f"GrowthSchedule.load_state_dict: stage {stage}, step {step} of it, alpha "
                f"{alpha!r} is not a state of this schedule (stage_steps={self.stage_steps}: "
                f"{length or 'no end to'} steps in that stage, alpha "
                f"{self.alpha_at(stage, max(step, 1))} at that step)")
        self.stage, self.stage_step, self.alpha = int(stage), int(step), float(alpha)

