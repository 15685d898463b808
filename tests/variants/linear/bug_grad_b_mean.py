"""BUG: grad_b averages over the batch (grad_output.mean(0)) instead of summing. Caught by: backward (b)

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
        grad_w = x.T @ grad_output
        grad_b = grad_output.mean(dim=0)
        return grad_x, grad_w, grad_b
