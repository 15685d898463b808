"""BUG: keeps only the diagonal of the Jacobian, grad_output * (1 - s), and drops the sum over the row. Caught by: backward (x)"""

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
        return grad_output * (1 - torch.exp(y))
