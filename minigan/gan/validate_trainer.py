"""The Trainer's argument checks: each failure is a ConfigError naming ``Trainer``, the
argument, what it expected and what it got."""

from ..errors import ConfigError
from ..nn.module import Module
from ..validate import finite_number, is_int
from .models import is_conditional
from .objectives import get_objective


def infer_latent_dim(G):
    """The generator's ``latent_dim`` attribute, a conditional generator's input shape
    (latent_dim,), or its first Dense layer's input size."""
    if hasattr(G, "latent_dim"):
        return G.latent_dim
    if len(getattr(G, "input_shape", None) or ()) == 1:  # LabelConditioned
        return G.input_shape[0]
    first = G.layers[0] if hasattr(G, "layers") else None
    if not hasattr(first, "in_features"):
        raise ConfigError("Trainer: cannot infer latent_dim from the generator; "
                          "pass latent_dim=")
    return first.in_features


def check_models(G, D):
    for name, model in (("G", G), ("D", D)):
        if not isinstance(model, Module):
            raise ConfigError(f"Trainer: {name} must be a minigan Module, "
                              f"got {type(model).__name__}")
    if is_conditional(G) != is_conditional(D):
        raise ConfigError("Trainer: G and D must both be conditional (LabelConditioned) or "
                          f"neither, got G {type(G).__name__} and D {type(D).__name__}")


def objective_by_name(loss):
    try:
        return get_objective(loss)
    except ConfigError as error:
        raise ConfigError(f"Trainer: loss={loss!r}: {error}") from None


def check_r1(r1, objective):
    """R1's gamma: a number >= 0, non-zero only with the BCE objectives."""
    r1 = finite_number("Trainer", "r1", r1, minimum=0)
    if r1 and not objective.sigmoid_outputs:
        raise ConfigError(f"Trainer: r1={r1} is offered with the BCE objectives "
                          f"('non-saturating', 'minimax'), got loss={objective.name!r}")
    return r1


def check_betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ConfigError(f"Trainer: betas must be a pair (beta1, beta2), got {betas!r}")
    return tuple(finite_number("Trainer", f"betas[{i}]", beta, minimum=0, below=1)
                 for i, beta in enumerate(betas))


def check_feature_matching(index, D):
    """None, or the index of a layer of the Sequential D."""
    if index is None:
        return None
    if not (hasattr(D, "layers") and hasattr(D, "__getitem__")):
        raise ConfigError(f"Trainer: feature_matching needs a Sequential discriminator, "
                          f"got {type(D).__name__}")
    if not is_int(index) or not 0 <= index < len(D.layers):
        raise ConfigError(f"Trainer: feature_matching must be a layer index of D, an int in "
                          f"[0, {len(D.layers) - 1}], got {index!r}")
    return int(index)


MAX_SAMPLES = 10**6
"""``Trainer.sample`` at once: 3.1 GB of 28x28 float32 images (draw more in batches)."""
MAX_SEED = 2**63 - 1


def check_sample_count(n):
    """``Trainer.sample``'s n: at most ``MAX_SAMPLES`` (a ConfigError, not a MemoryError)."""
    if n > MAX_SAMPLES:
        raise ConfigError(f"Trainer.sample: n must be at most {MAX_SAMPLES:,} samples at once "
                          f"(draw more in batches, with z), got {n}")


def check_counters(state):
    """The state's ``step_count`` (an integer >= 0) and ``seed`` (0 to 2**63 - 1), as a
    Trainer could have made them; a ``StateError`` otherwise."""
    from ..errors import StateError

    for key, high in (("step_count", MAX_SEED), ("seed", MAX_SEED)):
        value = state.get(key)
        kind = getattr(getattr(value, "dtype", None), "kind", None)
        whole = (is_int(value) or kind in ("i", "u")) and getattr(value, "ndim", 0) == 0
        if not whole or not 0 <= int(value) <= high:
            raise StateError(f"Trainer.load_state_dict: '{key}' must be an integer from 0 to "
                             f"2**63 - 1, got {value!r:.40}")
