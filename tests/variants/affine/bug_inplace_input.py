"""BUG: centres x in place in affine_forward (x -= x.mean(0)), changing the caller's tensor and the output. Caught by: forward"""


def affine_forward(x, w, b):
    x -= x.mean(dim=0)
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(dim=0)
