"""BUG: returns the same gradient for target as for pred, forgetting the minus sign of d = pred - target. Caught by: backward (target)"""

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
        grad = grad_output * 2 * d / d.numel()
        return grad, grad
