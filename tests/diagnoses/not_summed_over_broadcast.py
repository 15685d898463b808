"""BUG: grad_b is grad_output itself, of shape (N, D_out): b was broadcast over the batch. Diagnosis: sum over dim 0.

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
        grad_w = x.T @ grad_output
        grad_b = grad_output
        return grad_x, grad_w, grad_b
