"""BUG: the max subtracted before exp is taken over all keys, masked ones included: when a later key scores far higher, every visible weight underflows and the row is 0 / 0 = NaN. Caught by: edge_cases

Exact for the random inputs (scores of size 1); only the edge case, whose query 0 scores
+1273 on a masked key and -1273 on the one it sees, shows it.
"""

import math

import torch


class ScaledDotProductAttentionCausal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        n = q.shape[-2]
        scale = 1.0 / math.sqrt(q.shape[-1])
        scores = (q @ k.transpose(-1, -2)) * scale
        row_max = scores.amax(dim=-1, keepdim=True)
        future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(diagonal=1)
        e = torch.exp((scores - row_max).masked_fill(future, float("-inf")))
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
