"""BUG: computes tanh(u) as (exp(2u) - 1) / (exp(2u) + 1), which is inf / inf = nan once exp(2u) overflows (x = 1000 gives u of about 3.6e7). Caught by: edge_cases

On random inputs u stays small enough and every value is right.
"""

import math

import torch

K = math.sqrt(2 / math.pi)


class GeluTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(2 * K * (x + 0.044715 * x**3))
        t = (e - 1) / (e + 1)
        ctx.save_for_backward(x, t)
        return 0.5 * x * (1 + t)

    @staticmethod
    def backward(ctx, grad_output):
        x, t = ctx.saved_tensors
        du_dx = K * (1 + 3 * 0.044715 * x**2)
        return grad_output * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du_dx)
