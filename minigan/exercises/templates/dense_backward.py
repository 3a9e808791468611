"""Exercise: the backward pass of a fully connected layer.

Task
    Complete ``dense_backward``: from the upstream gradient gy = dL/dy and the cache of
    the forward pass y = x @ w + b, return the gradients (gx, gw, gb) of the loss
    w.r.t. x, w and b.

Shapes
    x (N, IN), w (IN, OUT), b (OUT,), y and gy (N, OUT)
    gx (N, IN), gw (IN, OUT), gb (OUT,)

The cache is what ``minigan.functional.dense_forward(x, w, b)`` returns:
    cache = (x, w, has_bias)       has_bias: False when the layer has no bias

Return None in place of what was not asked for (need_input_grad=False: gx is None;
need_param_grads=False: gw and gb are None; no bias: gb is None). Do not change gy
or anything in the cache, and keep the dtype of the inputs.

Hint
    docs/layers/dense.md: write y_nj = sum_i x_ni w_ij + b_j and ask which y's each
    x_ni, w_ij and b_j touch.

Check it:  minigan exercises check DIR dense_backward
"""

import numpy as np  # noqa: F401  (NumPy is all you need)


def dense_backward(gy, cache, need_input_grad=True, need_param_grads=True):
    x, w, has_bias = cache
    # TODO: compute gx, gw and gb
    raise NotImplementedError("dense_backward: your code goes here")
