"""CORRECT: uses the convention relu'(0) = 1 (mask x >= 0).

Differs from PyTorch only at exactly x == 0, which random inputs avoid; an edge-case
check that feeds x == 0 and demands relu'(0) = 0 would flag it.
"""

import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x >= 0)
