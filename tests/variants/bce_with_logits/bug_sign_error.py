"""BUG: sign error in the gradient, y - sigmoid(z) instead of sigmoid(z) - y. Caught by: backward (z)"""

import torch


class BCEWithLogits(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()

    @staticmethod
    def backward(ctx, grad_output):
        z, y = ctx.saved_tensors
        return grad_output * (y - torch.sigmoid(z)) / z.numel(), None
