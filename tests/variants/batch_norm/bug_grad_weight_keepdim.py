"""BUG: grad_weight and grad_bias summed with keepdim=True, shape (1, D) instead of (D,). Caught by: backward (weight, bias)

The values are right: only a check that compares shapes sees it (the autograd engine would
silently reshape a (1, D) gradient for a (D,) input).
"""

import torch


class BatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        mu = x.mean(dim=0, keepdim=True)
        centered = x - mu
        var = (centered**2).mean(dim=0, keepdim=True)
        rstd = 1.0 / torch.sqrt(var + 1e-5)
        xhat = centered * rstd
        ctx.save_for_backward(xhat, rstd, weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_output):
        xhat, rstd, weight = ctx.saved_tensors
        grad_bias = grad_output.sum(dim=0, keepdim=True)
        grad_weight = (grad_output * xhat).sum(dim=0, keepdim=True)
        gh = grad_output * weight
        grad_x = rstd * (gh - gh.mean(dim=0, keepdim=True) - xhat * (gh * xhat).mean(dim=0, keepdim=True))
        return grad_x, grad_weight, grad_bias
