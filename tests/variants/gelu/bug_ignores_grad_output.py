"""BUG: ignores grad_output and returns the local derivative Phi(x) + x * phi(x). Caught by: backward (x)"""

import math

import torch


class Gelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 0.5 * (1 + torch.erf(x / math.sqrt(2)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
        pdf = torch.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        return cdf + x * pdf
