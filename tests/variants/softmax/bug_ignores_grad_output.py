"""BUG: backward uses a tensor of ones in place of grad_output, so it returns (almost) zeros. Caught by: backward (x)"""

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
        g = torch.ones_like(s)
        return s * (g - (g * s).sum(dim=-1, keepdim=True))
