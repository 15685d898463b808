"""BUG: multiplies the kept elements by (1 - p) (the old test-time scaling) instead of dividing. Caught by: forward"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        scale = (torch.rand_like(x) >= p).to(x.dtype) * (1 - p)
        ctx.save_for_backward(scale)
        return x * scale

    @staticmethod
    def backward(ctx, grad_output):
        (scale,) = ctx.saved_tensors
        return grad_output * scale, None
