"""BUG: grad_w averaged over the batch (divided by N) although the layer sums over it. Diagnosis: factor 1/N.

Exercise: linear.
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
