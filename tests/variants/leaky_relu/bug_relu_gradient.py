"""BUG: backward copied from relu: grad_output * (x > 0), giving 0 instead of negative_slope * grad_output where x < 0. Caught by: backward (x)"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope  # saved, then forgotten in backward
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, negative_slope * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0), None
