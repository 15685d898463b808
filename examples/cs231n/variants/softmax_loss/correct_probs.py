"""CORRECT: the probabilities normalised in place for dx, the loss from the shifted scores and their log-sum-exp (never log of a probability that underflowed to 0)."""

import numpy as np


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
    N = x.shape[0]
    loss = np.sum(np.log(Z[:, 0]) - shifted[np.arange(N), y]) / N
    probs = np.exp(shifted)
    probs /= Z
    probs[np.arange(N), y] -= 1
    return loss, probs / N
