"""BUG: grad_a not summed over the C dim a was broadcast along (shape (*batch, C, N, K) instead of (*batch, 1, N, K)). Caught by: backward (a)

Right only when C = 1.
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
        grad_a = grad_output @ b.transpose(-1, -2)
        grad_b = a.transpose(-1, -2) @ grad_output
        lead = tuple(range(grad_b.dim() - b.dim()))
        if lead:
            grad_b = grad_b.sum(dim=lead)
        return grad_a, grad_b
