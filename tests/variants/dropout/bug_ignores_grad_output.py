"""BUG: returns the local derivative mask / (1 - p) without multiplying by grad_output. Caught by: backward (x)

Right only for an all-ones grad_output, e.g. out.sum().backward().
"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        ctx.p = p
        mask = (torch.rand_like(x) >= p).to(x.dtype)
        ctx.save_for_backward(mask)
        return x * mask / (1 - p)

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return mask / (1 - ctx.p), None
