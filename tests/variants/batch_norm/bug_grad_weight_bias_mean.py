"""BUG: grad_weight and grad_bias average over the batch instead of summing. Caught by: backward (weight, bias)"""

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
        grad_bias = grad_output.mean(dim=0)
        grad_weight = (grad_output * xhat).mean(dim=0)
        gh = grad_output * weight
        grad_x = rstd * (gh - gh.mean(dim=0, keepdim=True) - xhat * (gh * xhat).mean(dim=0, keepdim=True))
        return grad_x, grad_weight, grad_bias
