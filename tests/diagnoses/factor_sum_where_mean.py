"""BUG: the forward takes the mean, the backward forgets its 1 / z.numel(). Diagnosis: factor numel.

Exercise: bce_with_logits.
"""

import torch


class BCEWithLogits(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, y):
        ctx.save_for_backward(z, y)
        loss = z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
        return loss.mean()

    @staticmethod
    def backward(ctx, grad_output):
        z, y = ctx.saved_tensors
        grad_z = grad_output * (torch.sigmoid(z) - y)
        return grad_z, None
