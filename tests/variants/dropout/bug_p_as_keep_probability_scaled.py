"""BUG: treats p as the keep probability throughout: keeps with probability p and divides by p. Caught by: forward"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        scale = (torch.rand_like(x) < p).to(x.dtype) / p
        ctx.save_for_backward(scale)
        return x * scale

    @staticmethod
    def backward(ctx, grad_output):
        (scale,) = ctx.saved_tensors
        return grad_output * scale, None
