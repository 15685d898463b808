"""BUG: grad_b averages over a's batch dims instead of summing (every copy of b contributes in full). Caught by: backward (b)

Right only when the batch has a single element.
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
        lead = tuple(range(grad_b.dim() - b.dim()))
        if lead:
            grad_b = grad_b.mean(dim=lead)
        return grad_a, grad_b
