"""BUG: backward copied from relu: grad_output * (x > 0), giving 0 instead of 0.01 * grad_output where x < 0. Caught by: backward (x)"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, 0.01 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)
