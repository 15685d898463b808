"""BUG: grad_b sums over dim 0 only, as if a always had exactly one batch dim: with none it sums over C, with two it keeps one. Caught by: backward (b)"""

import torch


class BatchedMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = (grad_output @ b.transpose(-1, -2)).sum(dim=-3, keepdim=True)
        grad_b = (a.transpose(-1, -2) @ grad_output).sum(dim=0)
        return grad_a, grad_b
