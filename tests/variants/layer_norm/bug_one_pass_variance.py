"""BUG: variance as mean(x**2) - mu**2, which cancels catastrophically for values of 1e6 that differ by about 1. Caught by: edge_cases

Algebraically right, and exact enough for the random inputs (values of size 1): only the
large-offset edge case shows it.
"""

import torch


class LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        mu = x.mean(dim=-1, keepdim=True)
        var = (x * x).mean(dim=-1, keepdim=True) - mu * mu
        rstd = 1.0 / torch.sqrt(var + 1e-5)
        xhat = (x - mu) * rstd
        ctx.save_for_backward(xhat, rstd, weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_output):
        xhat, rstd, weight = ctx.saved_tensors
        d = xhat.shape[-1]
        grad_bias = grad_output.reshape(-1, d).sum(dim=0)
        grad_weight = (grad_output * xhat).reshape(-1, d).sum(dim=0)
        gh = grad_output * weight
        grad_x = rstd * (gh - gh.mean(dim=-1, keepdim=True) - xhat * (gh * xhat).mean(dim=-1, keepdim=True))
        return grad_x, grad_weight, grad_bias
