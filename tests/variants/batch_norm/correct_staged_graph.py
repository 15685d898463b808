"""CORRECT: backprop through the computational graph one node at a time (mu, centered, var, std, xhat), as in CS231n.

The forward keeps every intermediate; the backward applies the chain rule node by node, with
the sums over the batch written out, instead of the closed form.
"""

import torch


class BatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        n = x.shape[0]
        mu = x.sum(dim=0) / n
        centered = x - mu
        var = (centered * centered).sum(dim=0) / n
        std = torch.sqrt(var + 1e-5)
        inv = 1.0 / std
        xhat = centered * inv
        ctx.save_for_backward(xhat, centered, std, inv, weight)
        return weight * xhat + bias

    @staticmethod
    def backward(ctx, grad_output):
        xhat, centered, std, inv, weight = ctx.saved_tensors
        n = xhat.shape[0]
        grad_bias = grad_output.sum(dim=0)
        grad_weight = (grad_output * xhat).sum(dim=0)
        dxhat = grad_output * weight
        dinv = (dxhat * centered).sum(dim=0)
        dcentered = dxhat * inv
        dstd = -dinv / (std * std)
        dvar = 0.5 * dstd / std
        dcentered = dcentered + 2.0 * centered * dvar / n
        dmu = -dcentered.sum(dim=0)
        grad_x = dcentered + dmu / n
        return grad_x, grad_weight, grad_bias
