"""BUG: unstable forward exp(x) / (1 + exp(x)), which is inf / inf = nan for large positive x. Caught by: edge_cases"""

import torch


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(x)
        s = e / (1 + e)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output * s * (1 - s)
