"""CORRECT: relu(x) plus negative_slope times the negative part, min(x, 0); the derivative mask written arithmetically, with x >= 0 at the kink."""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        ctx.save_for_backward(x)
        return x.clamp(min=0) + negative_slope * x.clamp(max=0)

    @staticmethod
    def backward(ctx, grad_output):
        negative_slope = ctx.negative_slope
        (x,) = ctx.saved_tensors
        pos = (x >= 0).to(grad_output.dtype)
        return grad_output * (pos + negative_slope * (1 - pos)), None
