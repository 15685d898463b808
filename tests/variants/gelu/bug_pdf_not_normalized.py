"""BUG: the normal density without its 1 / sqrt(2 pi) factor, phi(x) = exp(-x**2 / 2). Caught by: backward (x)"""

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
        pdf = torch.exp(-x * x / 2)
        return grad_output * (cdf + x * pdf)
