"""CORRECT: relu(x) plus 0.01 times the negative part, min(x, 0); the derivative mask written arithmetically, with x >= 0 at the kink."""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0) + 0.01 * x.clamp(max=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        pos = (x >= 0).to(grad_output.dtype)
        return grad_output * (pos + 0.01 * (1 - pos))
