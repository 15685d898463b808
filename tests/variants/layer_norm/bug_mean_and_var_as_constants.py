"""BUG: backward treats mu and var as constants, grad_x = grad_output * weight * rstd (no mean terms). Caught by: backward (x)"""

import torch


class LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        mu = x.mean(dim=-1, keepdim=True)
        centered = x - mu
        var = (centered * centered).mean(dim=-1, keepdim=True)
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
        grad_x = grad_output * weight * rstd
        return grad_x, grad_weight, grad_bias
