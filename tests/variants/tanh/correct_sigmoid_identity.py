"""CORRECT: tanh(x) = 2 * sigmoid(2x) - 1 with a hand-written stable sigmoid; d/dx = 4 s (1 - s)."""

import torch


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        # sigmoid(2x) from exp(-2|x|), which lies in (0, 1]: neither branch overflows.
        e = torch.exp(-2 * x.abs())
        s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(s)
        return 2 * s - 1

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * 4 * s * (1 - s)
