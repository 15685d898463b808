"""BUG: backward divides by the size of the first dimension (the "batch size") instead of numel. Caught by: backward (pred, target)

Identical to the correct backward for 0-d and 1-d inputs; needs an input with at least 2 dims.
"""

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
        batch_size = d.shape[0] if d.dim() > 0 else 1
        grad_pred = grad_output * 2 * d / batch_size
        return grad_pred, -grad_pred
