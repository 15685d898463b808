"""CORRECT: backprop through the computational graph one stage at a time (xhat, rstd, var, mu), as in CS231n.

Uses torch.var_mean for the forward and the chain rule node by node in the backward, instead of
the closed form rstd * (gh - mean(gh) - xhat * mean(gh * xhat)).
"""

import torch


class LayerNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        var, mu = torch.var_mean(x, dim=-1, keepdim=True, correction=0)
        centered = x - mu
        std = torch.sqrt(var + 1e-5)
        xhat = centered / std
        ctx.save_for_backward(centered, std, xhat, weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_output):
        centered, std, xhat, weight = ctx.saved_tensors
        d = centered.shape[-1]
        lead = tuple(range(grad_output.dim() - 1))
        grad_bias = grad_output.sum(dim=lead) if lead else grad_output.clone()
        grad_weight = (grad_output * xhat).sum(dim=lead) if lead else grad_output * xhat
        dxhat = grad_output * weight
        # xhat = centered / std
        dcentered = dxhat / std
        dstd = -(dxhat * centered).sum(dim=-1, keepdim=True) / (std * std)
        # std = sqrt(var + eps), var = mean(centered**2)
        dvar = dstd / (2 * std)
        dcentered = dcentered + dvar * 2 * centered / d
        # centered = x - mu, mu = mean(x)
        dmu = -dcentered.sum(dim=-1, keepdim=True)
        grad_x = dcentered + dmu / d
        return grad_x, grad_weight, grad_bias
