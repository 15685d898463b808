"""BUG: unstable forward -(y*log(sigmoid(z)) + (1-y)*log(1-sigmoid(z))), inf/nan for large |z|. Caught by: edge_cases"""

import torch


class BCEWithLogits(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        s = torch.sigmoid(z)
        return -(y * torch.log(s) + (1 - y) * torch.log(1 - s)).mean()

    @staticmethod
    def backward(ctx, grad_output):
        z, y = ctx.saved_tensors
        return grad_output * (torch.sigmoid(z) - y) / z.numel(), None
