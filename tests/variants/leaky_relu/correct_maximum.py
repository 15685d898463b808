"""CORRECT: forward as max(x, negative_slope * x) (true for the slopes drawn, all below 1), saving the output; the mask is out > 0."""

import torch


class LeakyReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.negative_slope = negative_slope
        out = torch.maximum(x, negative_slope * x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        negative_slope = ctx.negative_slope
        (out,) = ctx.saved_tensors
        # out has the sign of x, so out > 0 exactly where x > 0.
        slope = torch.ones_like(out).masked_fill(out <= 0, negative_slope)
        return grad_output * slope, None
