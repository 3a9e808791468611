"""One recorded array, copied to the host, and its summary numbers: norms, moments,
percentiles, histogram -- what ``minigan.inspect`` keeps of every layer's output and
gradients."""

import dataclasses

import numpy

from .. import backend

PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
PERCENTILE_SAMPLE = 32768   # percentiles of bigger arrays: from evenly spaced values
HISTOGRAM_BINS = 40


@dataclasses.dataclass
class Tensor:
    """One recorded array (on the host) and its summary numbers."""

    array: numpy.ndarray
    shape: tuple
    norm: float               # sqrt(sum of squares) over the whole batch
    sample_norm: float        # mean over the batch of each sample's norm
    mean: float
    std: float
    abs_mean: float
    min: float
    max: float
    zero_fraction: float
    percentiles: dict         # {1: ..., 5: ..., ..., 99: ...}   (both exact up to
    histogram: tuple          # (counts, bin edges)               PERCENTILE_SAMPLE values)

    @classmethod
    def of(cls, array, keep=True):
        host = numpy.array(backend.to_numpy(array), copy=True)  # layers may reuse buffers
        values = host.astype(numpy.float64).reshape(host.shape[0] if host.ndim else 1, -1)
        squares = values * values
        per_sample = numpy.sqrt(squares.sum(axis=1))
        # percentiles and histogram: exact up to PERCENTILE_SAMPLE values, else of every
        # k-th value (evenly spaced), which is plenty for a summary and keeps recording fast
        flat = values.ravel()
        sample = flat[::max(1, flat.size // PERCENTILE_SAMPLE)]
        sample = sample[numpy.isfinite(sample)]  # a NaN step is recorded, not a crash
        if not sample.size:
            sample = numpy.full(1, numpy.nan)
        counts, edges = numpy.histogram(sample[numpy.isfinite(sample)], bins=HISTOGRAM_BINS)
        return cls(array=host if keep else None, shape=tuple(host.shape),
                   norm=float(numpy.sqrt(squares.sum())), sample_norm=float(per_sample.mean()),
                   mean=float(flat.mean()), std=float(flat.std()),
                   abs_mean=float(numpy.abs(flat).mean()), min=float(flat.min()),
                   max=float(flat.max()), zero_fraction=float((flat == 0).mean()),
                   percentiles=dict(zip(PERCENTILES, numpy.percentile(sample, PERCENTILES)
                                        .tolist())),
                   histogram=(counts, edges))

    def summary(self):
        """The numbers without the array, JSON-ready."""
        return {"shape": list(self.shape), "norm": self.norm, "sample_norm": self.sample_norm,
                "mean": self.mean, "std": self.std, "abs_mean": self.abs_mean,
                "min": self.min, "max": self.max, "zero_fraction": self.zero_fraction,
                "percentiles": {str(k): v for k, v in self.percentiles.items()},
                "histogram": {"counts": self.histogram[0].tolist(),
                              "edges": self.histogram[1].tolist()}}
