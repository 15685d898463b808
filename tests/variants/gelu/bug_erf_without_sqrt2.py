"""BUG: Phi(x) = 0.5 * (1 + erf(x)), forgetting the / sqrt(2) (the CDF of a normal with variance 1/2), with a backward consistent with it. Caught by: forward

The backward is the right derivative of the student's own (wrong) forward, so the
finite differences agree; the forward and the gradient both differ from the reference.
"""

import math

import torch


class Gelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 0.5 * (1 + torch.erf(x))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # d/dx erf(x) = 2 / sqrt(pi) * exp(-x**2)
        cdf = 0.5 * (1 + torch.erf(x))
        pdf = torch.exp(-x * x) / math.sqrt(math.pi)
        return grad_output * (cdf + x * pdf)
