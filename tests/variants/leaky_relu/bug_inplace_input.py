"""BUG: scales the negative entries of the input in place (x[x < 0] *= 0.01), overwriting the caller's tensor. Caught by: forward

The returned values and the gradient are right; only the input is clobbered.
"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        mask = x > 0
        x[x < 0] *= 0.01
        ctx.save_for_backward(mask)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return torch.where(mask, grad_output, 0.01 * grad_output)
