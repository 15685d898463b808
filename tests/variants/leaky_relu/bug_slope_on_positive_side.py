"""BUG: the branches swapped, 0.01 * x where x > 0 and x elsewhere, with a backward consistent with it. Caught by: forward"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x > 0, 0.01 * x, x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, 0.01 * grad_output, grad_output)
