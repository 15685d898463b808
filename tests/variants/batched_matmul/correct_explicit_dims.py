"""CORRECT: sums over the known broadcast dims: dim -3 (keepdim) for grad_a, the flattened leading dims for grad_b."""

import torch


class BatchedMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return torch.matmul(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = torch.matmul(grad_output, b.mT).sum(dim=-3, keepdim=True)
        grad_b = torch.matmul(a.mT, grad_output).reshape(-1, *b.shape).sum(dim=0)
        return grad_a, grad_b
