"""BUG: backward sums g * s over dim 0 instead of the last dim. Caught by: backward (x)

Identical to the correct backward for 1-d inputs; needs an input with at least 2 dims.
"""

import torch


class Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(x - x.amax(dim=-1, keepdim=True))
        s = e / e.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return s * (grad_output - (grad_output * s).sum(dim=0, keepdim=True))
