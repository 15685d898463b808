"""BUG: backward uses the input x where tanh(x) belongs, 1 - x**2. Caught by: backward (x)"""

import torch


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        e = torch.exp(-2 * x.abs())
        return torch.sign(x) * (1 - e) / (1 + e)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (1 - x * x)
