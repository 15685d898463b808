"""Exercise: the rectified linear unit in NumPy, as a pair of functions.

Both functions receive and return NumPy arrays. relu_forward returns its output with a
*cache*: whatever relu_backward will need. relu_backward receives the upstream gradient and
that cache.
"""

import numpy as np


def relu_forward(x):
    """Elementwise ``relu(x) = max(x, 0)``.

    x is an array of any shape (a 0-d array too); out has the same shape and dtype.
    Return the pair ``(out, cache)``, e.g. with ``cache = x``.
    Do not modify x in place (no ``x[x < 0] = 0``, no ``out=x``): work on a new array.
    """
    raise NotImplementedError("relu_forward: return (np.maximum(x, 0), cache)")


def relu_backward(dout, cache):
    """Gradient of ReLU.

    ``dout`` is dL/d(out), an array of the shape of x; ``cache`` is what relu_forward
    returned with out. Return dL/dx as an array of the shape and dtype of x: dout where
    x > 0 and 0 elsewhere. Follow PyTorch's convention that the derivative at x == 0 is 0.

    Return NumPy arrays, not Python floats or lists. Do not modify dout or the cache in place.
    """
    raise NotImplementedError("relu_backward: return dL/dx")
