"""BUG: ignores grad_output and returns the local derivative, 1 or 0.01. Caught by: backward (x)"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, 0.01 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.01))
