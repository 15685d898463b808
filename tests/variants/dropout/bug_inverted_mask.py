"""BUG: the backward passes the gradient where the element was dropped (1 - mask) instead of where it was kept. Caught by: backward (x)"""

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
        return grad_output * (1 - mask) / (1 - ctx.p), None
