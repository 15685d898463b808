"""Exercise: an affine (fully connected) layer as a pair of functions, in the style of CS231n.

affine_forward computes the layer's output and returns it with a *cache*: whatever
affine_backward will need. affine_backward receives the upstream gradient and that cache.
"""

import torch


def affine_forward(x, w, b):
    """Affine layer ``out = x @ w + b``.

    Shapes:
        x: (N, D)   a batch of N input rows
        w: (D, M)   weights
        b: (M,)     bias, broadcast over the batch
        out: (N, M)

    Return the pair ``(out, cache)``, e.g. with ``cache = (x, w)``.
    Do not modify x, w or b in place.
    """
    # BEGIN SOLUTION: affine_forward: return (x @ w + b, cache)
    return x @ w + b, (x, w)
    # END SOLUTION


def affine_backward(dout, cache):
    """Gradients of the affine layer.

    ``dout`` is dL/d(out), shape (N, M); ``cache`` is what affine_forward returned with out.
    Return the tuple ``(dx, dw, db)`` = (dL/dx, dL/dw, dL/db), each with exactly the shape of
    the matching input: (N, D), (D, M), (M,). Remember that b is added to every row of the batch.

    Compute the gradients by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func here.
    Do not hard-code a dtype or device.
    """
    # BEGIN SOLUTION: affine_backward: return (dx, dw, db)
    x, w = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.sum(dim=0)
    return dx, dw, db
    # END SOLUTION
