"""The weight gradient of a layer that computes with a *transformed* weight.

SpectralNorm (W / sigma) and EqualizedLR (c W) run the wrapped layer with W_used = f(W).
The layer's own backward adds dL/dW_used into ``weight.grad``; the wrapper needs that
array on its own, to turn it into dL/dW = (dW_used/dW)^T dL/dW_used before accumulating.
"""

from .. import backend


def backward_catching_weight_grad(layer, gy, need_input_grad=True):
    """``layer.run_backward(gy, need_input_grad)`` with the weight gradient it computes
    caught: returns (dL/dx, dL/dW_used). A fresh zero array stands in for ``weight.grad``
    during the call and the real accumulator is put back, untouched, afterwards (also when
    the call fails); the bias gradient is accumulated as usual."""
    weight = layer.weight
    accumulator, weight.grad = weight.grad, backend.xp.zeros_like(weight.grad)
    try:
        gx = layer.run_backward(gy, need_input_grad)
    finally:
        g_used, weight.grad = weight.grad, accumulator
    return gx, g_used
