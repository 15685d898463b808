"""BUG: centres x in place in forward (x -= x.mean(0)), changing the caller's tensor and the output. Caught by: forward"""

import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        x -= x.mean(dim=0)
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        grad_x = grad_output @ w.T
        grad_w = x.T @ grad_output
        grad_b = grad_output.sum(dim=0)
        return grad_x, grad_w, grad_b
