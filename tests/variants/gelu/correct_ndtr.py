"""CORRECT: Phi from torch.special.ndtr (the normal CDF), phi written out; saves x."""

import math

import torch


class Gelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * torch.special.ndtr(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        pdf = torch.exp(-0.5 * x.square()) * (1 / math.sqrt(2 * math.pi))
        return grad_output * torch.special.ndtr(x) + grad_output * x * pdf
