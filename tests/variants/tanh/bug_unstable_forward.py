"""BUG: unstable forward (exp(x) - exp(-x)) / (exp(x) + exp(-x)), which is inf / inf = nan for |x| near 1000. Caught by: edge_cases

Random inputs stay small enough for exp() not to overflow; only the large edge-case
inputs expose it.
"""

import torch


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        a, b = torch.exp(x), torch.exp(-x)
        t = (a - b) / (a + b)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * (1 - t * t)
