"""CORRECT: CS231n's relu_backward as students write it: dx = dout, then zeroed in place where x <= 0 (dout is the backward's own); __all__, and a self-test under __main__ that prints."""
from builtins import range
import numpy as np

__all__ = ["relu_forward", "relu_backward"]


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


if __name__ == "__main__":
    import torch

    x = np.random.randn(4, 5)
    out, cache = relu_forward(x)
    print("matches torch:", np.allclose(out, torch.nn.functional.relu(torch.from_numpy(x)).numpy()))
