"""BUG: ignores grad_output and returns the local derivative, 1 or negative_slope. Caught by: backward (x)"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, negative_slope * x)

    @staticmethod
    def backward(ctx, grad_output):
        negative_slope = ctx.negative_slope
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, negative_slope)), None
