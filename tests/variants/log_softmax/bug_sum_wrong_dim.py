"""BUG: backward sums grad_output over dim 0 instead of the last dim. Caught by: backward (x)

Identical to the correct backward for 1-d inputs; needs an input with at least 2 dims.
"""

import torch


class LogSoftmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        shifted = x - x.amax(dim=-1, keepdim=True)
        y = shifted - torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output - torch.exp(y) * grad_output.sum(dim=0, keepdim=True)
