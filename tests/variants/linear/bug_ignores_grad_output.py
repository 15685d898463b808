"""BUG: ignores grad_output (uses a matrix of ones as the upstream gradient). Caught by: backward (x, w, b)

Gives the right answer only when grad_output is all ones, e.g. for out.sum().backward().
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
        ones = x.new_ones(x.shape[0], w.shape[1])
        grad_x = ones @ w.T
        grad_w = x.T @ ones
        grad_b = ones.sum(dim=0)
        return grad_x, grad_w, grad_b
