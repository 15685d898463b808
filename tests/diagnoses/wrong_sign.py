"""BUG: the softmax backward with the subtraction the wrong way round. Diagnosis: wrong sign.

Exercise: softmax.
"""

import torch


class Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        shifted = x - x.max(dim=-1, keepdim=True).values
        e = shifted.exp()
        s = e / e.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return s * ((grad_output * s).sum(dim=-1, keepdim=True) - grad_output)
