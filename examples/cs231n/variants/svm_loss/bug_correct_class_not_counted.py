"""BUG: dx never takes the count of positive margins from the correct class's column. Caught by: backward (x)"""

import numpy as np


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(x.dtype)
    return loss, dx / N
