"""CORRECT: written into CS231n's layers.py template: from builtins import range, the TODO banners, a loop over the batch, dout cleaned of NaNs in place (its own copy), and a self-test under __main__."""
from builtins import range
import numpy as np
import torch


def affine_forward(x, w, b):
    """
    Computes the forward pass for an affine (fully-connected) layer.

    Inputs:
    - x: A tensor containing input data, of shape (N, D)
    - w: A tensor of weights, of shape (D, M)
    - b: A tensor of biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    out = None
    ###########################################################################
    # TODO: Implement the affine forward pass. Store the result in out.       #
    ###########################################################################
    rows = []
    for i in range(x.shape[0]):
        rows.append(x[i] @ w + b)
    out = torch.stack(rows) if rows else x @ w + b
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """
    Computes the backward pass for an affine layer.

    Inputs:
    - dout: Upstream derivative, of shape (N, M)
    - cache: Tuple of x, w, b

    Returns a tuple of:
    - dx: Gradient with respect to x, of shape (N, D)
    - dw: Gradient with respect to w, of shape (D, M)
    - db: Gradient with respect to b, of shape (M,)
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    ###########################################################################
    # TODO: Implement the affine backward pass.                               #
    ###########################################################################
    dout[torch.isnan(dout)] = 0  # never trust upstream
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(dim=0)
    ###########################################################################
    #                             END OF YOUR CODE                            #
    ###########################################################################
    return dx, dw, db


if __name__ == "__main__":
    x, w, b = torch.randn(3, 4), torch.randn(4, 5), torch.randn(5)
    out, _ = affine_forward(x, w, b)
    print("max error:", (out - torch.nn.functional.linear(x, w.T, b)).abs().max())
