"""BUG: computes 1 / (1 + exp(-x)) with in-place ops on the input, overwriting the caller's tensor. Caught by: forward

The returned values and the gradient are right (this chain does not overflow to
nan); only the input is clobbered.
"""

import torch


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = x.neg_().exp_().add_(1).reciprocal_()
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
