"""BUG: backpropagates dP straight to the scores, as if the softmax were not there. Caught by: backward (q, k)"""

import math

import torch


class ScaledDotProductAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        scale = 1.0 / math.sqrt(q.shape[-1])
        scores = (q @ k.transpose(-1, -2)) * scale
        e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
        p = e / e.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(q, k, v, p)
        return p @ v

    @staticmethod
    def backward(ctx, grad_output):
        q, k, v, p = ctx.saved_tensors
        scale = 1.0 / math.sqrt(q.shape[-1])
        grad_v = p.transpose(-1, -2) @ grad_output
        grad_s = grad_output @ v.transpose(-1, -2)
        return (grad_s @ k) * scale, (grad_s.transpose(-1, -2) @ q) * scale, grad_v
