"""BUG: the backward passes the gradient where the element was dropped (1 - mask) instead of where it was kept. Caught by: backward (x)"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mask, p):
        ctx.p = p
        ctx.save_for_backward(mask)
        return x * mask.to(x.dtype) / (1 - p)

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        dropped = (1 - mask).to(grad_output.dtype)
        return grad_output * dropped / (1 - ctx.p), None, None
