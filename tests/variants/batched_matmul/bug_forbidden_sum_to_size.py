"""BUG: reduces the gradients with Tensor.sum_to_size, which this exercise forbids. Caught by: forward

The gradients are right; the rule is found in the source, and every check fails with it
(forward first).
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
        grad_a = (grad_output @ b.transpose(-1, -2)).sum_to_size(a.shape)
        grad_b = (a.transpose(-1, -2) @ grad_output).sum_to_size(b.shape)
        return grad_a, grad_b
