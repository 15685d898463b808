"""CORRECT: torch.where with the dtype's most negative finite number instead of -inf, tril for the visible keys, einsum for the products."""

import math

import torch


class ScaledDotProductAttentionCausal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v):
        n = q.shape[-2]
        scores = torch.einsum("bid,bjd->bij", q, k) / math.sqrt(q.shape[-1])
        visible = torch.tril(torch.ones(n, n, dtype=torch.bool, device=q.device))
        # A finite fill: after the (finite) row max is subtracted it is still hugely negative,
        # and exp gives exactly 0.
        scores = torch.where(visible, scores, torch.finfo(scores.dtype).min)
        w = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)
        w = w / w.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(q, k, v, w)
        return torch.einsum("bij,bje->bie", w, v)

    @staticmethod
    def backward(ctx, grad_output):
        q, k, v, w = ctx.saved_tensors
        scale = 1.0 / math.sqrt(q.shape[-1])
        grad_v = torch.einsum("bij,bie->bje", w, grad_output)
        grad_w = torch.einsum("bie,bje->bij", grad_output, v)
        grad_s = w * (grad_w - (grad_w * w).sum(dim=-1, keepdim=True)) * scale
        return torch.einsum("bij,bjd->bid", grad_s, k), torch.einsum("bij,bid->bjd", grad_s, q), grad_v
