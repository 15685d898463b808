"""BUG: adds the slope instead of selecting it: grad_output * ((x > 0) + negative_slope), so 1 + negative_slope where x > 0. Caught by: backward (x)"""

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
        return grad_output * ((x > 0).to(grad_output.dtype) + negative_slope), None
