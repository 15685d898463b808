"""BUG: keeps each element with probability p (CS231n's convention) though p is the drop probability here. Caught by: forward

The scale 1 / (1 - p) is right, so only the fraction kept gives it away (the binomial test).
"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        scale = (torch.rand_like(x) < p).to(x.dtype) / (1 - p)
        ctx.save_for_backward(scale)
        return x * scale

    @staticmethod
    def backward(ctx, grad_output):
        (scale,) = ctx.saved_tensors
        return grad_output * scale, None
