"""BUG: divides by sqrt(var) + eps instead of sqrt(var + eps). Caught by: forward

A relative difference of about eps / (2 var) for ordinary columns; a constant column even
divides 0 by eps. The backward is consistent with this forward.
"""

import torch


class BatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        mu = x.mean(dim=0, keepdim=True)
        centered = x - mu
        std = torch.sqrt((centered**2).mean(dim=0, keepdim=True))
        denom = std + 1e-5
        xhat = centered / denom
        ctx.save_for_backward(centered, std, denom, weight)
        return xhat * weight + bias

    @staticmethod
    def backward(ctx, grad_output):
        centered, std, denom, weight = ctx.saved_tensors
        n = centered.shape[0]
        xhat = centered / denom
        grad_bias = grad_output.sum(dim=0)
        grad_weight = (grad_output * xhat).sum(dim=0)
        gh = grad_output * weight
        # d std / d x_i = centered_i / (n std)
        dstd = -(gh * centered).sum(dim=0, keepdim=True) / (denom * denom)
        dcentered = gh / denom + dstd * centered / (n * std)
        grad_x = dcentered - dcentered.mean(dim=0, keepdim=True)
        return grad_x, grad_weight, grad_bias
