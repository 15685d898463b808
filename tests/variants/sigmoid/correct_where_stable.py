"""CORRECT: stable forward choosing 1/(1+exp(-x)) or exp(x)/(1+exp(x)) by the sign of x.

exp(x) is evaluated only on min(x, 0) and exp(-x) only on max(x, 0), so neither
branch overflows.
"""

import torch


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        pos = 1 / (1 + torch.exp(-x.clamp(min=0)))
        e = torch.exp(x.clamp(max=0))
        s = torch.where(x >= 0, pos, e / (1 + e))
        ctx.save_for_backward(x)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        e = torch.exp(-x.abs())
        s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return grad_output * s * (1 - s)
