"""BUG: grad_x sums grad_output over the batch as grad_b does, though each row of x has its own gradient. Diagnosis: summed over dim 0.

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
        grad_x = grad_output.sum(dim=0) @ w.T
        grad_w = x.T @ grad_output
        grad_b = grad_output.sum(dim=0)
        return grad_x, grad_w, grad_b
