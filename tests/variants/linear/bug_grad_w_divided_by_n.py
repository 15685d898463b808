"""BUG: grad_w divided by the batch size N (as if the layer averaged over the batch). Caught by: backward (w)

Indistinguishable from the correct answer when N == 1.
"""

import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        grad_x = grad_output @ w.T
        grad_w = x.T @ grad_output / x.shape[0]
        grad_b = grad_output.sum(dim=0)
        return grad_x, grad_w, grad_b
