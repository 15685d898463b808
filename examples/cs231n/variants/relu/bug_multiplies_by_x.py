"""BUG: relu_backward multiplies dout by x instead of by the mask x > 0. Caught by: backward (x)"""

import numpy as np


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    x = cache
    return dout * np.maximum(0, x)
