"""BUG: dw computed as dout.T @ x, the transpose of dL/dw. Caught by: backward (w)

It has shape (M, D): the grader rejects the shape when D != M, and the values are wrong
when D == M.
"""


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = dout @ w.T
    dw = dout.T @ x
    db = dout.sum(dim=0)
    return dx, dw, db
