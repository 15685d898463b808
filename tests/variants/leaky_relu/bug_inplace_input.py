"""BUG: scales the negative entries of the input in place (x[x < 0] *= negative_slope), overwriting the caller's tensor. Caught by: forward

The returned values and the gradient are right; only the input is clobbered.
"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        mask = x > 0
        x[x < 0] *= negative_slope
        ctx.save_for_backward(mask)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        negative_slope = ctx.negative_slope
        (mask,) = ctx.saved_tensors
        return torch.where(mask, grad_output, negative_slope * grad_output), None
