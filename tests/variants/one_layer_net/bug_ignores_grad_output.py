"""BUG: ignores the 0-d grad_output (never multiplies by it). Caught by: backward (w, b)

Right only when grad_output == 1, e.g. for loss.backward().
"""

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
        dz = (torch.sigmoid(z) - y) / z.numel()
        return None, torch.outer(x, dz), dz, None
