"""BUG: reuses the softmax backward, s * (g - sum(g * s)), instead of g - s * sum(g). Caught by: backward (x)"""

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
        s = torch.exp(y)
        return s * (grad_output - (grad_output * s).sum(dim=-1, keepdim=True))
