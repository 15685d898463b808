"""BUG: statistics over dim 0 (batch-norm style) instead of the last dim; the backward follows the same dim. Caught by: forward

Right only for a 1-d x, where dim 0 is the last dim.
"""

import torch


class LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        mu = x.mean(dim=0, keepdim=True)
        centered = x - mu
        var = (centered * centered).mean(dim=0, keepdim=True)
        rstd = 1.0 / torch.sqrt(var + 1e-5)
        xhat = centered * rstd
        ctx.save_for_backward(xhat, rstd, weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_output):
        xhat, rstd, weight = ctx.saved_tensors
        d = xhat.shape[-1]
        grad_bias = grad_output.reshape(-1, d).sum(dim=0)
        grad_weight = (grad_output * xhat).reshape(-1, d).sum(dim=0)
        gh = grad_output * weight
        grad_x = rstd * (gh - gh.mean(dim=0, keepdim=True) - xhat * (gh * xhat).mean(dim=0, keepdim=True))
        return grad_x, grad_weight, grad_bias
