"""BUG: the backward draws a new mask instead of saving the forward's. Caught by: backward (x)"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        ctx.p = p
        return x * (torch.rand_like(x) >= p).to(x.dtype) / (1 - p)

    @staticmethod
    def backward(ctx, grad_output):
        mask = (torch.rand_like(grad_output) >= ctx.p).to(grad_output.dtype)
        return grad_output * mask / (1 - ctx.p), None
