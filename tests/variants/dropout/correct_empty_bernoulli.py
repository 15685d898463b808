"""CORRECT: the mask as PyTorch's own kernel draws it, x.new_empty(x.shape).bernoulli_(1 - p), divided in place."""

import torch


class Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        mask = x.new_empty(x.shape).bernoulli_(1 - p).div_(1 - p)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad_output):
        (mask,) = ctx.saved_tensors
        return grad_output * mask, None
