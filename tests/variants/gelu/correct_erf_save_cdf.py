"""CORRECT: the textbook 0.5 * (1 + erf(x / sqrt(2))), saving x and Phi(x) from forward for backward."""

import math

import torch


class Gelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        cdf = 0.5 * (1.0 + torch.erf(x * (1 / math.sqrt(2))))
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad_output):
        x, cdf = ctx.saved_tensors
        pdf = torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
        return grad_output * (cdf + x * pdf)
