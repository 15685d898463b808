"""BUG: grad_a summed over dim 0 (keepdim) instead of a's size-1 dim; right only when a has no batch dims. Caught by: backward (a)"""

import torch


class BatchedMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = (grad_output @ b.transpose(-1, -2)).sum(dim=0, keepdim=True)
        grad_b = a.transpose(-1, -2) @ grad_output
        lead = tuple(range(grad_b.dim() - b.dim()))
        if lead:
            grad_b = grad_b.sum(dim=lead)
        return grad_a, grad_b
