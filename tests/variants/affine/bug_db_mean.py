"""BUG: db averages dout over the batch (dout.mean(0)) instead of summing. Caught by: backward (b)

Indistinguishable from the correct answer when N == 1.
"""


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = dout.mean(dim=0)
    return dx, dw, db
