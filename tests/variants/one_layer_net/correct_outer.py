"""CORRECT: softplus-based forward, grad_w = torch.outer(x, dz)."""

import torch
import torch.nn.functional as F


class OneLayerNet(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b, y):
        z = torch.matmul(x, w) + b
        ctx.save_for_backward(x, y, z)
        return (F.softplus(z) - z * y).mean()

    @staticmethod
    def backward(ctx, grad_output):
        x, y, z = ctx.saved_tensors
        dz = grad_output * (torch.sigmoid(z) - y) / z.numel()
        return None, torch.outer(x, dz), dz, None
