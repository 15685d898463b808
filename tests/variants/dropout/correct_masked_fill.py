"""CORRECT: scale everything by 1 / (1 - p), then masked_fill the dropped places with 0 (forward and backward)."""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        ctx.p = p
        dropped = torch.rand(x.shape, dtype=x.dtype, device=x.device) < p
        ctx.save_for_backward(dropped)
        return (x / (1 - p)).masked_fill(dropped, 0.0)

    @staticmethod
    def backward(ctx, grad_output):
        (dropped,) = ctx.saved_tensors
        return (grad_output / (1 - ctx.p)).masked_fill(dropped, 0.0), None
