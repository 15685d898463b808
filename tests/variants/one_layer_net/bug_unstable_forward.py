"""BUG: unstable forward via log(sigmoid(z)) and log(1 - sigmoid(z)), inf/nan for large |z|. Caught by: edge_cases"""

import torch


class OneLayerNet(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, y):
        z = torch.matmul(x, w) + b
        ctx.save_for_backward(x, y, z)
        p = torch.sigmoid(z)
        return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()

    @staticmethod
    def backward(ctx, grad_output):
        x, y, z = ctx.saved_tensors
        dz = grad_output * (torch.sigmoid(z) - y) / z.numel()
        return None, torch.outer(x, dz), dz, None
