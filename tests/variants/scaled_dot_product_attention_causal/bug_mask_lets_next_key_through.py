"""BUG: off by one at the boundary (triu(diagonal=2)): query i also sees key i + 1. Caught by: forward"""

import math

import torch


class ScaledDotProductAttentionCausal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        n = q.shape[-2]
        scale = 1.0 / math.sqrt(q.shape[-1])
        scores = (q @ k.transpose(-1, -2)) * scale
        future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(diagonal=2)
        scores = scores.masked_fill(future, float("-inf"))
        e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
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
