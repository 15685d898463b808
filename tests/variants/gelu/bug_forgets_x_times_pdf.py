"""BUG: treats x as a constant in x * Phi(x): backward returns grad_output * Phi(x), dropping the product rule's x * phi(x). Caught by: backward (x)"""

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
        return grad_output * 0.5 * (1 + torch.erf(x / math.sqrt(2)))
