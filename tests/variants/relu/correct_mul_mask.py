"""CORRECT: forward as x * (x > 0) (multiplying by a boolean mask).

Note: gives nan for x = -inf (-inf * 0); fine for finite inputs.
"""

import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * (x > 0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x > 0)
