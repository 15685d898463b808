"""CORRECT: forward and backward as einsum, which sums over the batch dims an output subscript leaves out."""

import torch


class BatchedMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        # a's dim -3 has size 1: drop it, and let 'c' come from b.
        return torch.einsum("...nk,ckm->...cnm", a.squeeze(-3), b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = torch.einsum("...cnm,ckm->...nk", grad_output, b).unsqueeze(-3)
        # '...' is not in the output: einsum sums over a's batch dims.
        grad_b = torch.einsum("...nk,...cnm->ckm", a.squeeze(-3), grad_output)
        return grad_a, grad_b
