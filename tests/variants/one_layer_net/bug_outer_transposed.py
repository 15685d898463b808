"""BUG: grad_w = torch.outer(dz, x), the transpose of dL/dw (shape (D_out, D_in)). Caught by: backward (w)

Autograd rejects the shape unless D_in == D_out, where the values are wrong.
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
        dz = grad_output * (torch.sigmoid(z) - y) / z.numel()
        return None, torch.outer(dz, x), dz, None
