"""BUG: relu_forward clamps the input array in place (np.maximum(x, 0, out=x)), overwriting the caller's tensor. Caught by: forward

The array shares its memory with the grader's tensor. The returned values and the gradient are
right; only the input is clobbered.
"""

import numpy as np


def relu_forward(x):
    out = np.maximum(x, 0, out=x)
    return out, out


def relu_backward(dout, cache):
    out = cache
    return dout * (out > 0)
