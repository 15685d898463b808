"""BUG: backward uses sign(d) everywhere, the L1 gradient, also inside the band |d| <= 1. Caught by: backward (pred)"""

import torch


class HuberLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        d = pred - target.to(pred.dtype)
        ctx.save_for_backward(d)
        return torch.where(d.abs() <= 1.0, 0.5 * d * d, d.abs() - 0.5).mean()

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * torch.sign(d) / d.numel(), None
