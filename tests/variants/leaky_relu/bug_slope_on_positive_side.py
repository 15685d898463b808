"""BUG: the branches swapped, negative_slope * x where x > 0 and x elsewhere, with a backward consistent with it. Caught by: forward"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        ctx.save_for_backward(x)
        return torch.where(x > 0, negative_slope * x, x)

    @staticmethod
    def backward(ctx, grad_output):
        negative_slope = ctx.negative_slope
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, negative_slope * grad_output, grad_output), None
