"""The starter layers.py a CS231n-style course hands out: every function's signature and docstring
line, its body a TODO that leaves the result None and still returns the cache, as the assignments'
starter code does. Graded, it scores 0 and every exercise reads "not implemented"
(tests/test_cs231n.py)."""

from builtins import range  # noqa: F401 - the assignments' starter code has it

import numpy as np


def affine_forward(x, w, b):
    """out = x reshaped to (N, D) @ w + b."""
    out = None
    # TODO: implement the affine forward pass.
    pass
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    # TODO: implement the affine backward pass; dx in x's shape.
    pass
    return dx, dw, db


def relu_forward(x):
    out = None
    # TODO: implement the ReLU forward pass.
    pass
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = None, cache
    # TODO: implement the ReLU backward pass.
    pass
    return dx


def softmax_loss(x, y):
    loss, dx = None, None
    # TODO: the softmax loss and its gradient (numerically stable).
    pass
    return loss, dx


def svm_loss(x, y):
    loss, dx = None, None
    # TODO: the multiclass SVM loss and its gradient.
    pass
    return loss, dx


def conv_forward_naive(x, w, b, conv_param):
    out = None
    # TODO: the naive convolution forward pass (conv_param: stride, pad).
    pass
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    dx, dw, db = None, None, None
    # TODO: the naive convolution backward pass.
    pass
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    out = None
    # TODO: the naive max-pooling forward pass.
    pass
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    dx = None
    # TODO: the naive max-pooling backward pass.
    pass
    return dx


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h, cache = None, None
    # TODO: one step of a vanilla RNN (tanh).
    pass
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    dx, dprev_h, dWx, dWh, db = None, None, None, None, None
    # TODO: the backward pass of one RNN step.
    pass
    return dx, dprev_h, dWx, dWh, db


def sigmoid(x):
    """A numerically stable sigmoid, given."""
    pos, neg = x >= 0, x < 0
    z = np.zeros_like(x)
    z[pos] = np.exp(-x[pos])
    z[neg] = np.exp(x[neg])
    top = np.ones_like(x)
    top[neg] = z[neg]
    return top / (1 + z)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    next_h, next_c, cache = None, None, None
    # TODO: one LSTM step (gates i, f, o, g in that order).
    pass
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    dx, dprev_h, dprev_c, dWx, dWh, db = None, None, None, None, None, None
    # TODO: the backward pass of one LSTM step.
    pass
    return dx, dprev_h, dprev_c, dWx, dWh, db


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)  # noqa: F841 - for the student's code
    # TODO: layer normalisation, per example.
    pass
    return out, cache


def layernorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: the backward pass of layer normalisation.
    pass
    return dx, dgamma, dbeta


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)  # noqa: F841 - for the student's code
    momentum = bn_param.get("momentum", 0.9)  # noqa: F841 - for the student's code
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        # TODO: normalise with the batch's statistics; update the running averages.
        pass
    elif mode == "test":
        # TODO: normalise with the running averages.
        pass
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: the backward pass of batch normalisation (a computation graph, step by step).
    pass
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    dx, dgamma, dbeta = None, None, None
    # TODO: the same gradients, simplified on paper first.
    pass
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    out = None
    if mode == "train":
        # TODO: inverted dropout; p is the probability of keeping a unit.
        pass
    elif mode == "test":
        # TODO: the test-mode forward pass.
        pass
    cache = (dropout_param, mask)
    return out, cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    dx = None
    # TODO: the backward pass of inverted dropout.
    pass
    return dx
