"""BUG: the linear branch is |d| instead of |d| - 0.5, so the loss jumps at |d| = 1 (backward is right). Caught by: forward"""

import torch


class HuberLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        d = pred - target.to(pred.dtype)
        ctx.save_for_backward(d)
        return torch.where(d.abs() <= 1.0, 0.5 * d * d, d.abs()).mean()

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * d.clamp(-1.0, 1.0) / d.numel(), None
