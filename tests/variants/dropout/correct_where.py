"""CORRECT: torch.where on a boolean mask from torch.bernoulli, keeping the saved mask as bool and scaling in backward."""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        ctx.p = p
        keep = torch.bernoulli(torch.full_like(x, 1 - p)).bool()
        ctx.save_for_backward(keep)
        return torch.where(keep, x / (1 - p), torch.zeros_like(x))

    @staticmethod
    def backward(ctx, grad_output):
        (keep,) = ctx.saved_tensors
        return torch.where(keep, grad_output / (1 - ctx.p), torch.zeros_like(grad_output)), None
