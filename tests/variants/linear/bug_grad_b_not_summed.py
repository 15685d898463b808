"""BUG: grad_b not summed over the batch (returns grad_output, shape (N, D_out) instead of (D_out,)). Caught by: backward (b)

Only a check that calls backward directly and compares shapes sees this: the
autograd engine reduces a gradient whose shape b broadcasts to with sum_to, so
through Fn.apply and torch.autograd.grad the final grad_b comes out correct.
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
