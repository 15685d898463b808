"""BUG: drops the factor 2 of the square's derivative: grad_pred = g * d / n. Caught by: backward (pred, target)"""

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
        grad_pred = grad_output * d / d.numel()
        return grad_pred, -grad_pred
