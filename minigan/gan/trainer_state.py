"""A trainer's state for checkpoints: what ``Trainer.state_dict`` holds and
``Trainer.load_state_dict`` restores."""

from ..errors import StateError
from .validate_trainer import check_counters


def state_dict(trainer):
    """Everything a resumed run needs, as {name: array or number}, flat."""
    state = {"step_count": trainer.step_count, "seed": trainer.seed}
    for prefix, source in [("G.", trainer.G), ("D.", trainer.D), ("opt_g.", trainer.opt_g),
                           ("opt_d.", trainer.opt_d)]:
        state.update({prefix + k: v for k, v in source.state_dict().items()})
    if trainer.replay is not None:
        state.update({"replay." + k: v for k, v in trainer.replay.state_dict().items()})
    if trainer.averages:
        for prefix, average in zip(["avg_d.", "avg_g."], trainer.averages):
            state.update({prefix + k: v for k, v in average.state_dict().items()})
    return state


def load_parts(trainer, state):
    """Load what ``state_dict`` returned into the trainer's parts (``Trainer.load_state_dict``
    makes it all or nothing)."""
    def part(prefix):
        return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}

    for key in ("step_count", "seed"):
        if key not in state:
            raise StateError(f"Trainer.load_state_dict: the state has no '{key}'")
    check_counters(state)

    trainer.G.load_state_dict(part("G."))
    trainer.D.load_state_dict(part("D."))
    trainer.opt_g.load_state_dict(part("opt_g."))
    trainer.opt_d.load_state_dict(part("opt_d."))
    if trainer.replay is not None:
        trainer.replay.load_state_dict(part("replay."))
    if trainer.averages:
        for prefix, average in zip(["avg_d.", "avg_g."], trainer.averages):
            average.load_state_dict(part(prefix))
    trainer.step_count = int(state["step_count"])
    trainer.seed = int(state["seed"])
