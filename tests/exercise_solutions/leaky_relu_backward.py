import numpy as np


def leaky_relu_backward(gy, cache):
    x, negative_slope = cache
    return gy * np.where(x > 0, 1.0, negative_slope).astype(gy.dtype)
