"""BUG: relu_forward zeroes the negative entries of x in place (x[x < 0] = 0), clobbering the caller's array. Caught by: forward"""

import numpy as np


def relu_forward(x):
    x[x < 0] = 0
    return x, x


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)
