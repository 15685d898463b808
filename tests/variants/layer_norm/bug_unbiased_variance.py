"""BUG: unbiased variance (torch.var's default, dividing by D - 1) where layer norm divides by D. Caught by: forward

The backward is consistent with this forward, so only the comparison with the reference sees it.
"""

import torch


class LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        mu = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, keepdim=True)
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
        # d var / dx = 2 (x - mu) / (D - 1) for the unbiased variance.
        ratio = d / (d - 1)
        grad_x = rstd * (gh - gh.mean(dim=-1, keepdim=True)
                         - ratio * xhat * (gh * xhat).mean(dim=-1, keepdim=True))
        return grad_x, grad_weight, grad_bias
