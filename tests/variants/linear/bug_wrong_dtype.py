"""BUG: forward casts its result to float32 with .float(). Caught by: forward

Invisible for float32 inputs; for float64 the output dtype is wrong and backward
then fails on a float32 @ float64 matmul.
"""

import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return (x @ w + b).float()

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        grad_x = grad_output @ w.T
        grad_w = x.T @ grad_output
        grad_b = grad_output.sum(dim=0)
        return grad_x, grad_w, grad_b
