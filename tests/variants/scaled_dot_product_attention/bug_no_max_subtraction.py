"""BUG: softmax without subtracting the row max: exp overflows for scores in the thousands, inf / inf = NaN. Caught by: edge_cases

Exact for the random inputs (scores of size 1); only the large-score edge case shows it.
"""

import math

import torch


class ScaledDotProductAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        scale = 1.0 / math.sqrt(q.shape[-1])
        e = torch.exp((q @ k.transpose(-1, -2)) * scale)
        p = e / e.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(q, k, v, p)
        return p @ v

    @staticmethod
    def backward(ctx, grad_output):
        q, k, v, p = ctx.saved_tensors
        scale = 1.0 / math.sqrt(q.shape[-1])
        grad_v = p.transpose(-1, -2) @ grad_output
        grad_p = grad_output @ v.transpose(-1, -2)
        grad_s = p * (grad_p - (grad_p * p).sum(dim=-1, keepdim=True))
        return (grad_s @ k) * scale, (grad_s.transpose(-1, -2) @ q) * scale, grad_v
