"""The matrix products of one training step, recorded from the step itself, to replay alone.

``record(build_trainer, real)`` runs one ``Trainer.step`` of a fresh trainer on the
reference engine (plain products, each whole) and records every ``matmul`` it makes --
those of the convolutions, of col2im's products, of the dense layers -- with the
operands' shapes and whether each is a transposed view. ``replay_arrays`` builds random
operands of exactly those shapes and layouts, and ``replay`` multiplies them back to
back: each product whole, ``b`` contiguous where minigan's is, on the BLAS's own threads
(or the GPU). That is the best case for the BLAS: however the rest of a step were made
free, a step built on these products could not be faster. The bench reports it as
"gemms only", and the step's time minus it as the overhead.

Recording from the step keeps the list honest: it is whatever the engine multiplies.
"""

from minigan import backend, engine

_reference = engine.ENGINES["reference"]


def record(build_trainer, real):
    """[(a_shape, b_shape, a_transposed, b_transposed)] of one step of a new trainer."""
    products = []
    plain = type(_reference).matmul

    def recording(a, b):
        products.append((tuple(a.shape), tuple(b.shape), _transposed(a), _transposed(b)))
        return plain(_reference, a, b)

    trainer = build_trainer()
    _reference.matmul = recording
    try:
        with engine.using("reference"):
            trainer.step(real)
    finally:
        del _reference.matmul
    return products


def _transposed(a):
    """Whether a 2-d array is the transpose of a C-contiguous one (a weight-gradient view)."""
    return a.ndim == 2 and not a.flags.c_contiguous and a.T.flags.c_contiguous


def replay_arrays(products, dtype="float32", seed=0):
    """[(a, b, out)] on the active backend, random, with the recorded shapes and layouts."""
    rng = backend.default_rng(seed)
    arrays = []
    for a_shape, b_shape, a_t, b_t in products:
        a = rng.standard_normal(a_shape[::-1] if a_t else a_shape, dtype=dtype)
        b = rng.standard_normal(b_shape[::-1] if b_t else b_shape, dtype=dtype)
        out = backend.xp.empty((a_shape[0], b_shape[1]), dtype=dtype)
        arrays.append((a.T if a_t else a, b.T if b_t else b, out))
    return arrays


def replay(arrays):
    """Every product once, whole, into its preallocated output."""
    for a, b, out in arrays:
        backend.xp.matmul(a, b, out=out)


def flop(products):
    """2 * M * K * P summed over the products."""
    return sum(2 * a[0] * a[1] * b[1] for a, b, _, _ in products)
