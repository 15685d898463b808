"""BUG: relu_backward returns the local derivative (x > 0), ignoring dout. Caught by: backward (x)"""

import numpy as np


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    x = cache
    return (x > 0).astype(x.dtype)
