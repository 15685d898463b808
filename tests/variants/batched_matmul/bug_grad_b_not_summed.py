"""BUG: grad_b not summed over a's batch dims (shape (*batch, C, K, M) instead of (C, K, M)). Caught by: backward (b)

Right only when a has no batch dims. Through Function.apply the autograd engine would sum it
silently; the grader calls backward itself and compares shapes.
"""

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
        grad_b = a.transpose(-1, -2) @ grad_output
        return grad_a, grad_b
