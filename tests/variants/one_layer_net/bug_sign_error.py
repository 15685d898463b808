"""BUG: sign error in dz, y - sigmoid(z) instead of sigmoid(z) - y. Caught by: backward (w, b)"""

import torch


class OneLayerNet(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, y):
        z = torch.matmul(x, w) + b
        ctx.save_for_backward(x, y, z)
        return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).mean()

    @staticmethod
    def backward(ctx, grad_output):
        x, y, z = ctx.saved_tensors
        dz = grad_output * (y - torch.sigmoid(z)) / z.numel()
        return None, torch.outer(x, dz), dz, None
