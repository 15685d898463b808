"""BUG: softmax backward with only the diagonal of its Jacobian, dS = dP * P * (1 - P). Caught by: backward (q, k)

grad_v is right; the gradients that flow through the softmax are not.
"""

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
        grad_p = grad_output @ v.transpose(-1, -2)
        grad_s = grad_p * p * (1 - p)
        return (grad_s @ k) * scale, (grad_s.transpose(-1, -2) @ q) * scale, grad_v
