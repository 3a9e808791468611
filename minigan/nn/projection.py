"""ProjectionDiscriminator: a conditional discriminator whose class enters through an inner
product with the image's features (Miyato & Koyama 2018); the projection's math is in
minigan/functional/projection.py."""

from .. import functional as F
from ..errors import ConfigError, MiniganError, ShapeError
from ..validate import is_int
from .dense import Dense
from .labels import Labelled
from .module import Module
from .spectral_norm import SpectralNorm


class ProjectionDiscriminator(Labelled):
    """D(x, y) = head(h) + <embed(y), h>,  h = trunk(x).

    ``trunk`` maps images to features (N, F); ``head`` maps features to one score (N, 1);
    ``embed`` is a Dense(num_classes, F, bias=False) applied to onehot(y) -- its weight is
    the (K, F) class-embedding matrix, and onehot(y) @ E picks row y (a Dense so that
    ``SpectralNorm`` can wrap it, as Miyato & Koyama normalise theirs). Called as
    ``D(x, labels)``; ``D.backward(gy)`` returns dL/dx.

    The features h feed two paths, like ``minigan.nn.Fade``'s input; the backward adds
    their gradients:

        forward:   h = trunk(x);  e = embed(onehot(y));  out = head(h) + rowsum(e * h)
        backward:  gh = head.backward(gy) + gy * e
                   embed.backward(gy * h)              (E's gradient: onehot(y)^T (gy * h))
                   gx = trunk.backward(gh)

    Why projection rather than concatenating the label: an optimal discriminator's logit
    is log p(x|y)/q(x|y) = log p(x)/q(x) + log p(y|x)/q(y|x), and for class posteriors of
    the softmax form the second term is exactly such an inner product of a class vector
    with the features (Miyato & Koyama §3); it costs one Dense on a one-hot code, and
    leaves the trunk as the unconditional network. state_dict keys: "trunk.0.weight",
    "head.weight", "embed.weight" (under "embed.layer." when spectrally normalised).
    """

    def __init__(self, trunk, head, embed):
        super().__init__()
        for name, module in (("trunk", trunk), ("head", head)):
            if not isinstance(module, Module):
                raise ConfigError(f"ProjectionDiscriminator: {name} must be a minigan Module, "
                                  f"got {type(module).__name__}")
        inner = embed.layer if isinstance(embed, SpectralNorm) else embed
        if not isinstance(inner, Dense) or inner.bias is not None or \
                not is_int(inner.in_features) or inner.in_features < 2:
            raise ConfigError(f"ProjectionDiscriminator: embed must be a Dense(num_classes, F, "
                              f"bias=False) (or one in SpectralNorm), got {embed!r}")
        self.num_classes = inner.in_features
        self.trunk, self.head, self.embed = trunk, head, embed

    def forward(self, x, labels):
        labels = self._label_array(labels, x.shape[0])
        h = self._part("trunk", self.trunk.run_forward, x)
        if h.ndim != 2 or h.shape[1] != self.embed_size():
            raise ShapeError(f"{self._where()}: the trunk must give features (N, "
                             f"{self.embed_size()}), got {tuple(h.shape)}")
        score = self._part("head", self.head.run_forward, h)
        e = self._part("embed", self.embed.run_forward, self.onehot(labels, h.dtype))
        projection, cache = F.projection_forward(h, e)
        return self._remember(F.sum_of_paths(score, projection), cache)

    def backward(self, gy, need_input_grad=True):
        """dL/dx (None with ``need_input_grad=False``); trunk, head and embedding
        parameters get their gradients."""
        cache = self._take_cache(gy)
        gh_projection, ge = F.projection_backward(gy, cache)
        self._part("embed", self.embed.run_backward, ge, False)     # labels: no gradient
        gh_head = self._part("head", self.head.run_backward, gy)
        gh = F.sum_of_paths(gh_head, gh_projection)             # h fed both paths
        return self._part("trunk", self.trunk.run_backward, gh, need_input_grad)

    def embed_size(self):
        inner = self.embed.layer if isinstance(self.embed, SpectralNorm) else self.embed
        return inner.out_features

    def _part(self, name, method, *args):
        try:
            return method(*args)
        except MiniganError as error:
            raise type(error)(f"{self._where()}.{name}: {error}") from None

    def extra_repr(self):
        return f"num_classes={self.num_classes}, features={self.embed_size()}"

    def _where(self):
        return f"ProjectionDiscriminator({self.extra_repr()})"
