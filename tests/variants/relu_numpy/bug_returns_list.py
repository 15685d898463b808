"""BUG: relu_backward returns a Python list (.tolist()) instead of a NumPy array. Caught by: backward

The values are right, but a list has no dtype or shape for the grader to check.
"""

import numpy as np


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    x = cache
    return (dout * (x > 0)).tolist()
