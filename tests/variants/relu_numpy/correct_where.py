"""CORRECT: np.where in forward and backward (keeps the dtype of x)."""

import numpy as np


def relu_forward(x):
    return np.where(x > 0, x, 0), x


def relu_backward(dout, cache):
    x = cache
    return np.where(x > 0, dout, 0)
