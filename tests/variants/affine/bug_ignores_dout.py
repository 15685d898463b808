"""BUG: ignores dout (uses a matrix of ones as the upstream gradient). Caught by: backward (x, w, b)

Gives the right answer only when dout is all ones, e.g. for out.sum().backward().
"""

import torch


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    ones = torch.ones_like(dout)
    dx = ones @ w.T
    dw = x.T @ ones
    db = ones.sum(dim=0)
    return dx, dw, db
