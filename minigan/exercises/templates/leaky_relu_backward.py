"""Exercise: the backward pass of LeakyReLU.

Task
    Complete ``leaky_relu_backward``: y = x for x > 0 and y = negative_slope * x
    otherwise; return gx = dL/dx from gy = dL/dy.

Shapes
    x, y, gy and gx all have the same shape (any shape: (N, F) or NHWC images).

The cache is what ``minigan.functional.leaky_relu_forward(x, negative_slope)`` returns:
    cache = (x, negative_slope)

At exactly x = 0 use the negative slope (as PyTorch does). Do not change gy or x,
and keep the dtype of the inputs (float32 in, float32 out).

Hint
    docs/layers/leaky_relu.md: the derivative is 1 or negative_slope, element by element.

Check it:  minigan exercises check DIR leaky_relu_backward
"""

import numpy as np  # noqa: F401


def leaky_relu_backward(gy, cache):
    x, negative_slope = cache
    # TODO: compute gx
    raise NotImplementedError("leaky_relu_backward: your code goes here")
