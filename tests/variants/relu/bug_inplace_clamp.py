"""BUG: forward clamps the input in place (x.clamp_(min=0)), overwriting the caller's tensor. Caught by: forward

The returned values and the gradient are right; only the input is clobbered.
"""

import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.clamp_(min=0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return grad_output * (out > 0)
