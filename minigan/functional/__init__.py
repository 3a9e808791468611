"""The functional core: pure forward/backward pairs, one file per family.

Each ``*_forward`` returns ``(output, cache)``; each ``*_backward`` takes the
upstream gradient and the cache and returns the gradients; each ``*_double_backward``
differentiates that backward once more, for a gradient penalty
(docs/backprop_through_the_backprop.md). Nothing here holds
state, and every array returned is fresh. Shapes use N (batch), H, W (height, width),
C (channels), KH, KW (kernel), OH, OW (output height, width); images are NHWC.

The math is written in a few primitives -- matmul, im2col, col2im, per-channel sums,
elementwise rules -- that ``minigan.engine`` runs on the active backend.
"""

from ..engine.unfold import col2im, conv_output_size, im2col
from .activations import (
    leaky_relu_backward,
    leaky_relu_double_backward,
    leaky_relu_forward,
    relu_backward,
    relu_double_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_double_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_double_backward,
    tanh_forward,
)
from .batchnorm import (
    batch_norm_backward,
    batch_norm_eval_forward,
    batch_norm_forward,
    update_running_stats,
)
from .bce import bce_with_logits_backward, bce_with_logits_forward
from .conv import conv2d_backward, conv2d_double_backward, conv2d_forward
from .conv_reference import conv2d_reference
from .conv_transpose import (
    conv_transpose2d_backward,
    conv_transpose2d_double_backward,
    conv_transpose2d_forward,
    conv_transpose_output_size,
)
from .cross_entropy import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from .dense import dense_backward, dense_double_backward, dense_forward
from .equalized_lr import equalized_weight_backward, equalized_weight_forward
from .fade import fade_backward, fade_forward, sum_of_paths
from .layernorm import layer_norm_backward, layer_norm_double_backward, layer_norm_forward
from .maxout import maxout_backward, maxout_double_backward, maxout_forward
from .minibatch_stddev import minibatch_stddev_backward, minibatch_stddev_forward
from .pixel_norm import pixel_norm_backward, pixel_norm_forward
from .pooling import avg_pool2d_backward, avg_pool2d_forward
from .projection import projection_backward, projection_forward
from .spectral_norm import spectral_normalize, spectral_normalize_backward
from .upsample import upsample_nearest_backward, upsample_nearest_forward

__all__ = ["avg_pool2d_backward", "avg_pool2d_forward", "batch_norm_backward",
           "batch_norm_eval_forward", "batch_norm_forward", "bce_with_logits_backward",
           "bce_with_logits_forward", "col2im", "conv2d_backward", "conv2d_double_backward",
           "conv2d_forward", "conv2d_reference", "conv_output_size", "conv_transpose2d_backward",
           "conv_transpose2d_double_backward", "conv_transpose2d_forward",
           "conv_transpose_output_size", "dense_backward", "dense_double_backward",
           "dense_forward", "equalized_weight_backward", "equalized_weight_forward",
           "fade_backward", "fade_forward", "im2col", "layer_norm_backward",
           "layer_norm_double_backward", "layer_norm_forward", "leaky_relu_backward",
           "leaky_relu_double_backward", "leaky_relu_forward", "maxout_backward",
           "maxout_double_backward", "maxout_forward", "minibatch_stddev_backward",
           "minibatch_stddev_forward", "pixel_norm_backward", "pixel_norm_forward",
           "projection_backward", "projection_forward", "relu_backward", "relu_double_backward",
           "relu_forward", "sigmoid_backward", "sigmoid_double_backward", "sigmoid_forward",
           "softmax_cross_entropy_backward", "softmax_cross_entropy_forward", "spectral_normalize",
           "spectral_normalize_backward", "sum_of_paths", "tanh_backward", "tanh_double_backward",
           "tanh_forward", "update_running_stats", "upsample_nearest_backward",
           "upsample_nearest_forward"]
