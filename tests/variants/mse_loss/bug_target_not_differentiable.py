"""BUG: treats target as a constant and returns None for its gradient. Caught by: backward (target)"""

import torch


class MSELoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        d = pred - target
        ctx.save_for_backward(d)
        return (d * d).mean()

    @staticmethod
    def backward(ctx, grad_output):
        (d,) = ctx.saved_tensors
        return grad_output * 2 * d / d.numel(), None
