"""BUG: adds the slope instead of selecting it: grad_output * ((x > 0) + 0.01), so 1.01 where x > 0. Caught by: backward (x)"""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, 0.01 * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * ((x > 0).to(grad_output.dtype) + 0.01)
