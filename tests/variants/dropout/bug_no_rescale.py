"""BUG: forgets the 1 / (1 - p) scaling of inverted dropout (out = x * mask), consistently in backward. Caught by: forward

The backward matches this forward, so finite differences agree; only the reference catches it.
"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mask, p):
        ctx.p = p
        keep = mask.to(x.dtype)
        ctx.save_for_backward(keep)
        return x * keep

    @staticmethod
    def backward(ctx, grad_output):
        (keep,) = ctx.saved_tensors
        return grad_output * keep, None, None
