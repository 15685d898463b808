"""CORRECT: a boolean rand < p mask kept in the cache, written in place: out = x.copy(); out[~mask] = 0; out /= p (and so dx from dout)."""

import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    out = x.copy()
    if mode == "train":
        mask = np.random.rand(*x.shape) < p
        out[~mask] = 0
        out /= p
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    dx = dout
    if dropout_param["mode"] == "train":
        dx[~mask] = 0
        dx /= dropout_param["p"]
    return dx
