"""BUG: scales the kept elements by 2, right for p = 0.5 (the exercise's old fixed p) and no other. Caught by: forward"""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        scale = (torch.rand_like(x) >= p).to(x.dtype) * 2
        ctx.save_for_backward(scale)
        return x * scale

    @staticmethod
    def backward(ctx, grad_output):
        (scale,) = ctx.saved_tensors
        return grad_output * scale, None
