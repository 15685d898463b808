"""BUG: sums the per-output losses instead of averaging (forward and backward consistently). Caught by: forward

The gradient matches the (wrong) forward, so finite differences agree.
Indistinguishable from the correct loss when D_out == 1.
"""

import torch


class OneLayerNet(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, y):
        z = torch.matmul(x, w) + b
        ctx.save_for_backward(x, y, z)
        return (z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))).sum()

    @staticmethod
    def backward(ctx, grad_output):
        x, y, z = ctx.saved_tensors
        dz = grad_output * (torch.sigmoid(z) - y)
        return None, torch.outer(x, dz), dz, None
