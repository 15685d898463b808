"""BUG: sign error in backward, s * ((g * s).sum(-1) - g) instead of s * (g - (g * s).sum(-1)). Caught by: backward (x)"""

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
        return s * ((grad_output * s).sum(dim=-1, keepdim=True) - grad_output)
