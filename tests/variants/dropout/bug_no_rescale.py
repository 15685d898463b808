"""BUG: forgets the 1 / (1 - p) scaling of inverted dropout (out = x * mask), consistently in backward. Caught by: forward

The backward matches this forward's mask and scale, so only the forward's values give it away.
"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        keep = (torch.rand_like(x) >= p).to(x.dtype)
        ctx.save_for_backward(keep)
        return x * keep

    @staticmethod
    def backward(ctx, grad_output):
        (keep,) = ctx.saved_tensors
        return grad_output * keep, None
