"""BUG: the correct class's own margin (always 1) is not zeroed, adding 1 to every row's loss. Caught by: forward"""

import numpy as np


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    loss = margins.sum() / N
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] -= dx.sum(axis=1)
    return loss, dx / N
