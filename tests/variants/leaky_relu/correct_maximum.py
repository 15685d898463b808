"""CORRECT: forward as max(x, 0.01 * x) (true for a slope below 1), saving the output; the mask is out > 0."""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = torch.maximum(x, 0.01 * x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        # out has the sign of x, so out > 0 exactly where x > 0.
        slope = torch.ones_like(out).masked_fill(out <= 0, 0.01)
        return grad_output * slope
