"""BUG: the gradient mask is x >= 0, so at x == 0 the gradient is dout instead of PyTorch's 0. Caught by: edge_cases (x)

Random inputs keep a margin from 0, where both masks agree; only the edge case at the kink
tells them apart.
"""

import numpy as np


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    x = cache
    return dout * (x >= 0)
