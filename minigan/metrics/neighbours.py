"""Exact nearest-neighbour searches for the metrics, in bounded memory.

Every search compares each query row with every reference row by squared Euclidean
distance, ``||q - r||^2 = ||q||^2 - 2 q.r + ||r||^2``: one matrix product per block of
queries, ``rows_per_block`` queries at a time so that a block's distance matrix holds at
most ``BLOCK_ELEMENTS`` numbers (32 MiB of float64) whatever the sizes of the two sets.
The work runs on the active backend in float64 (the expansion cancels: float64 keeps
distances between distinct 784-pixel digits exact to about 1e-10 of their size); the
few numbers per query that come back are host NumPy arrays.

Points are rows: (N, D) arrays of any backend (images are flattened by the callers).
"""

import numpy

from .. import backend
from ..errors import ConfigError, ShapeError

BLOCK_ELEMENTS = 1 << 22
"""The most entries of a block of the distance matrix held at once (4,194,304 float64)."""


def as_points(x, what):
    """x (N, ...) of any backend -> (N, D) float64 on the active backend, D = prod(...)."""
    if x.ndim < 2 or x.shape[0] == 0:
        raise ShapeError(f"{what}: expected an array of points (N, ...) with N >= 1, got "
                         f"shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise ConfigError(f"{what}: expected floating point values, got dtype {x.dtype}")
    xp = backend.xp
    points = backend.to_device(x).astype(xp.float64)
    return points.reshape(points.shape[0], -1)


def rows_per_block(reference_rows):
    """How many queries one block compares with ``reference_rows`` reference rows."""
    return max(1, BLOCK_ELEMENTS // max(1, reference_rows))


def _blocks(queries, reference):
    """(start, squared distances (rows, M)) for consecutive blocks of queries."""
    xp = backend.xp
    reference_norms = (reference * reference).sum(axis=1)
    step = rows_per_block(reference.shape[0])
    for start in range(0, queries.shape[0], step):
        block = queries[start:start + step]
        squared = (block * block).sum(axis=1)[:, None] - 2.0 * (block @ reference.T)
        squared += reference_norms[None, :]
        yield start, xp.maximum(squared, 0.0)   # rounding can dip a zero below 0


def nearest(queries, reference):
    """For each query row, its nearest reference row.

    queries (N, D), reference (M, D), float64 on the active backend ->
    (distances (N,) float64, indices (N,) int64), host NumPy: the Euclidean distance to
    the nearest reference row and that row's index (the first one on a tie).
    """
    distances, indices = [], []
    for _, squared in _blocks(queries, reference):
        index = squared.argmin(axis=1)
        best = squared[backend.xp.arange(squared.shape[0]), index]
        distances.append(backend.to_numpy(backend.xp.sqrt(best)))
        indices.append(backend.to_numpy(index).astype(numpy.int64))
    return numpy.concatenate(distances), numpy.concatenate(indices)


def kth_neighbour_distance(points, k):
    """Distance from each row to its k-th nearest *other* row of the same set.

    points (N, D) float64 on the active backend, 1 <= k < N -> (N,) float64 on the
    active backend. Row i's distance to itself is left out by index (set to infinity),
    so an exact duplicate of row i counts as a neighbour at distance 0.
    """
    xp = backend.xp
    n = points.shape[0]
    if not 1 <= k < n:
        raise ConfigError(f"k-th nearest neighbour: expected 1 <= k < N (the number of "
                          f"points, {n}), got k={k}")
    radii = []
    for start, squared in _blocks(points, points):
        rows = squared.shape[0]
        squared[xp.arange(rows), xp.arange(start, start + rows)] = xp.inf
        radii.append(xp.sqrt(xp.partition(squared, k - 1, axis=1)[:, k - 1]))
    return xp.concatenate(radii)


def within_any_ball(queries, centres, radii):
    """Whether each query lies in at least one ball (centre, radius), boundary included.

    queries (N, D), centres (M, D), radii (M,), float64 on the active backend -> (N,)
    bool on the active backend: ``any_m ||q_n - c_m|| <= radius_m``.
    """
    xp = backend.xp
    limits = (radii * radii)[None, :]
    inside = [(squared <= limits).any(axis=1) for _, squared in _blocks(queries, centres)]
    return xp.concatenate(inside)
