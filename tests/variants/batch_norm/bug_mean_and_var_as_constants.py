"""BUG: backward treats the batch mean and variance as constants, grad_x = grad_output * weight * rstd. Caught by: backward (x)"""

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
        grad_bias = grad_output.sum(dim=0)
        grad_weight = (grad_output * xhat).sum(dim=0)
        grad_x = grad_output * weight * rstd
        return grad_x, grad_weight, grad_bias
