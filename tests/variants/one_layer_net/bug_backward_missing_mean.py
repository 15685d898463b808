"""BUG: forward takes the mean but backward forgets the 1 / D_out factor. Caught by: backward (w, b)

Indistinguishable from the correct gradient when D_out == 1.
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
        dz = grad_output * (torch.sigmoid(z) - y)
        return None, torch.outer(x, dz), dz, None
