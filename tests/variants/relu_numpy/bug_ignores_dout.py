"""BUG: relu_backward ignores dout and returns the mask (x > 0) as the gradient. Caught by: backward (x)"""

import numpy as np


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    x = cache
    return (x > 0).astype(x.dtype)
