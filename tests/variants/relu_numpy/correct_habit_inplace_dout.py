"""CORRECT: CS231n's relu_backward as students write it: dx = dout, then zeroed in place where x <= 0 (dout is the backward's own)."""
from builtins import range
import numpy as np


def relu_forward(x):
    out = None
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    dx = dout
    dx[x <= 0] = 0
    return dx
