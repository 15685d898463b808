"""BUG: unbiased variance (torch.var's default, dividing by N - 1) where batch norm normalizes with the biased one. Caught by: forward

PyTorch keeps the unbiased variance only for the running statistics; the batch is normalized
with the biased one. The backward here is consistent with this forward.
"""

import torch


class BatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        mu = x.mean(dim=0, keepdim=True)
        var = x.var(dim=0, keepdim=True)
        rstd = 1.0 / torch.sqrt(var + 1e-5)
        xhat = (x - mu) * rstd
        ctx.save_for_backward(xhat, rstd, weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_output):
        xhat, rstd, weight = ctx.saved_tensors
        n = xhat.shape[0]
        grad_bias = grad_output.sum(dim=0)
        grad_weight = (grad_output * xhat).sum(dim=0)
        gh = grad_output * weight
        grad_x = rstd * (gh - gh.mean(dim=0, keepdim=True)
                         - n / (n - 1) * xhat * (gh * xhat).mean(dim=0, keepdim=True))
        return grad_x, grad_weight, grad_bias
