"""BUG: sums the loss instead of averaging (forward and backward consistently use the sum). Caught by: forward

The gradient matches the (wrong) forward, so finite differences agree; only the
comparison with the reference loss catches it.
"""

import torch


class BCEWithLogits(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).sum()

    @staticmethod
    def backward(ctx, grad_output):
        z, y = ctx.saved_tensors
        return grad_output * (torch.sigmoid(z) - y), None
