"""BUG: forward uses the negative_slope it is given, backward PyTorch's default 0.01 (from the days the slope was fixed). Caught by: backward (x)

Right for a slope of 0.01 only: the edge case (slope at its low end, 0.01) passes it.
"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, negative_slope * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_output, 0.01 * grad_output), None
