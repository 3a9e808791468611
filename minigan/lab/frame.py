"""What one picture of the GAN lab holds, computed from the trainer now (host numbers,
JSON-ready):

- ``surface``: D over the plane on a res x res grid of cell centres (rows from the top,
  y = ymax, down): sigmoid of the logit for the BCE losses, the raw score (critic value)
  for LSGAN, hinge and WGAN;
- ``d_star``: p_data / (p_data + p_g) on the same grid, p_data exact (the data sets are
  mixtures, ``datasets``), p_g a (binned) Gaussian kernel density estimate of G's
  samples, both seen through the KDE's kernel (``optimal_discriminator``) -- the
  optimal D of the BCE game (Goodfellow et al. 2014) and of LSGAN with codes 0/1;
  None for hinge and WGAN, whose optimal critic has no such formula;
- ``manifold``: G applied to a grid of z (2-D z: 9 + 9 lines of 41 points in [-2, 2]^2;
  1-D z: one curve of 121 points in [-3, 3]);
- ``arrows``: on each fake, -d loss_G / d x, the gradient that the G step sends into G
  through the frozen D (computed by ``D.backward``), times the batch size N: the loss is
  a mean, so N times its gradient is each sample's own term's gradient;
- ``metrics``: for data with modes, ``minigan.metrics.mode_coverage`` of 1,000 samples.
"""


import numpy

from .. import backend
from ..inspect import preserved
from ..nn.minibatch_stddev import MinibatchStdDev

RESOLUTION = 48
METRIC_SAMPLES = 1000


def rounded(a, digits=4):
    """A host array as nested lists of floats rounded to ``digits`` (NaN/inf -> None)."""
    a = numpy.round(numpy.asarray(a, dtype=numpy.float64), digits)
    if numpy.all(numpy.isfinite(a)):
        return a.tolist()
    values = a.astype(object)
    values[~numpy.isfinite(a)] = None
    return values.tolist()


def plane(extent, res=RESOLUTION):
    """The res x res cell centres of the extent, (res*res, 2), row-major from the top row."""
    xmin, xmax, ymin, ymax = extent
    xs = xmin + (numpy.arange(res) + 0.5) * (xmax - xmin) / res
    ys = ymax - (numpy.arange(res) + 0.5) * (ymax - ymin) / res
    gx, gy = numpy.meshgrid(xs, ys)
    return numpy.stack([gx.ravel(), gy.ravel()], 1)


def _device(a, dtype):
    return backend.to_device(numpy.ascontiguousarray(a, dtype=dtype))


def discriminator_surface(trainer, points, context, pack):
    """D's raw outputs (M,) at points (M, 2), host float64, leaving D as it was.

    A packed D judges m samples side by side: a point is scored as a pack of m copies of
    itself. A D with MinibatchStdDev scores a point within a batch: the statistic is the
    one of the ``context`` batch (G's samples), as that D sees a point among G's samples.
    """
    D = trainer.D
    dtype = D.parameters()[0].data.dtype
    x = _device(numpy.tile(points, (1, pack)), dtype)
    layers = list(getattr(D, "layers", ()))
    index = next((i for i, layer in enumerate(layers) if isinstance(layer, MinibatchStdDev)),
                 None)
    with preserved(D):  # SpectralNorm's power iteration and the caches are put back
        if index is None:
            out = D.forward(x)
        else:
            head, layer, tail = D[:index], D[index], D[index + 1:]
            ctx = _device(numpy.tile(context, (1, pack))[:256], dtype)
            statistic = layer.forward(head.forward(ctx))[:1, -1:]
            features = head.forward(x)
            column = backend.xp.broadcast_to(statistic, (features.shape[0], 1))
            out = tail.forward(backend.xp.concatenate([features, column], axis=1))
    return backend.to_numpy(out).astype(numpy.float64).reshape(-1)


def g_arrows(trainer, fakes, pack):
    """-d loss_G / d x at the fakes (N, 2), times N: what the G step would send into G,
    computed as the trainer does (``D.backward`` of the objective's gradient, D frozen, in
    training mode), leaving D as it was. Used where no G step was recorded (before the
    first step, after a D step alone)."""
    D = trainer.D
    dtype = D.parameters()[0].data.dtype
    x = _device(fakes, dtype)
    if pack > 1:
        from ..gan.packing import pack as pack_batch
        from ..gan.packing import unpack
    with preserved(D):
        D.freeze()
        out = D.forward(x if pack == 1 else pack_batch(x, pack))
        grad = D.backward(trainer.objective.g_loss(out)["grad_fake"])
        grad = grad if pack == 1 else unpack(grad, pack)
    return -backend.to_numpy(grad).astype(numpy.float64) * len(fakes)


def binned_kde(samples, extent, res, bandwidth):
    """Gaussian kernel density estimate of ``samples`` (n, 2) at the res x res cell
    centres of ``extent`` (``plane``'s order), by linear binning (Wand 1994): each sample's
    unit mass is shared bilinearly among the four nearest cell centres, and the counts are
    smoothed by a separable Gaussian of std ``bandwidth`` (at least half a cell). Samples
    outside the extent are counted in the total but drawn nowhere. (res*res,)."""
    xmin, xmax, ymin, ymax = extent
    cw, ch = (xmax - xmin) / res, (ymax - ymin) / res
    u = (samples[:, 0] - xmin) / cw - 0.5            # column coordinate of the sample
    v = (ymax - samples[:, 1]) / ch - 0.5            # row coordinate (rows from the top)
    counts = numpy.zeros((res + 2) * (res + 2))
    i0, j0 = numpy.floor(v), numpy.floor(u)
    fv, fu = v - i0, u - j0
    inside = (i0 >= -1) & (i0 <= res - 1) & (j0 >= -1) & (j0 <= res - 1)
    i0, j0 = i0[inside].astype(int) + 1, j0[inside].astype(int) + 1
    fv, fu = fv[inside], fu[inside]
    for di, wi in ((0, 1 - fv), (1, fv)):
        for dj, wj in ((0, 1 - fu), (1, fu)):
            counts += numpy.bincount((i0 + di) * (res + 2) + j0 + dj, weights=wi * wj,
                                     minlength=counts.size)
    counts = counts.reshape(res + 2, res + 2)[1:-1, 1:-1]

    def smooth(a, axis, width):
        sigma = max(bandwidth / width, 0.5)
        half = int(4 * sigma) + 1
        taps = numpy.arange(-half, half + 1)
        kernel = numpy.exp(-0.5 * (taps / sigma) ** 2)
        kernel /= kernel.sum() * width               # a density along this axis
        return numpy.apply_along_axis(
            lambda r: numpy.convolve(r, kernel, "full")[half:half + len(r)], axis, a)

    density = smooth(smooth(counts, 1, cw), 0, ch)
    return (density / len(samples)).ravel()


def kde_bandwidth(data, res):
    """The KDE's width: the data's std, but at least one cell of the picture."""
    x0, x1, y0, y1 = data.extent
    return max(data.std, (x1 - x0) / res, (y1 - y0) / res)


def optimal_discriminator(data, samples, points, res):
    """D* = p_data / (p_data + p_g) at ``points`` (``plane(data.extent, res)``), both
    densities seen through the same Gaussian kernel of width h (``kde_bandwidth``): p_g
    the binned KDE of G's samples, p_data the data's exact density blurred by h (a
    mixture of std sqrt(std^2 + h^2)). That is the optimal D between the two
    distributions with N(0, h^2 I) instance noise; comparing a smoothed p_g with the
    sharp p_data would call D* > 1/2 at the modes' centres even for a perfect G.
    0.5 where both densities vanish (below 1e-3 of their peak: there the KDE's truncated
    kernel and the Gaussian tails would decide, not the samples)."""
    if not numpy.all(numpy.isfinite(samples)):
        return None
    h = kde_bandwidth(data, res)
    p_data = data.pdf(points, blur=h)
    p_g = binned_kde(samples, data.extent, res, h)
    total = p_data + p_g
    seen = total > 1e-3 * total.max()
    return numpy.where(seen, p_data / numpy.where(seen, total, 1.0), 0.5)


def latent_grid(latent_dim):
    """The z whose images draw G's manifold, and the lines they form (index lists)."""
    if latent_dim == 1:
        z = numpy.linspace(-3, 3, 121).reshape(-1, 1)
        return z, [list(range(121))]
    axis, along = numpy.linspace(-2, 2, 9), numpy.linspace(-2, 2, 41)
    rows = [numpy.stack([along, numpy.full(41, a)], 1) for a in axis]
    cols = [numpy.stack([numpy.full(41, a), along], 1) for a in axis]
    z = numpy.concatenate(rows + cols)
    return z, [list(range(i * 41, (i + 1) * 41)) for i in range(18)]


def mode_metrics(data, samples):
    """``minigan.metrics.mode_coverage`` for data with modes, else None."""
    try:
        from ..metrics.modes import mode_coverage as coverage
    except ImportError:   # a minigan without the mixture metrics
        return None
    if not data.modes or not numpy.all(numpy.isfinite(samples)):
        return None
    result = coverage(samples, data.means, data.std)
    return {"modes": int(result["modes"]), "of": len(data.means),
            "high_quality": float(result["high_quality"]),
            "reverse_kl": float(result["reverse_kl"])}
