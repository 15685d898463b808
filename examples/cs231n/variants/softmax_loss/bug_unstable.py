"""BUG: the softmax without subtracting each row's max: exp(1000) overflows. Caught by: edge_cases"""

import numpy as np


def softmax_loss(x, y):
    shifted = x
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].sum() / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N
