"""BUG: writes tanh(x) = 2 * sigmoid(2x) - 1 and forgets the chain-rule factor 2 of the inner 2x: 2 s (1 - s) instead of 4 s (1 - s). Caught by: backward (x)"""

import torch


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        # A stable sigmoid of 2x, by hand.
        e = torch.exp(-2 * x.abs())
        s = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(s)
        return 2 * s - 1

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * 2 * s * (1 - s)
