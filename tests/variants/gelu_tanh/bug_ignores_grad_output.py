"""BUG: ignores grad_output and returns the local derivative d gelu / dx. Caught by: backward (x)"""

import math

import torch

K = math.sqrt(2 / math.pi)


class GeluTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        t = torch.tanh(K * (x + 0.044715 * x**3))
        ctx.save_for_backward(x, t)
        return 0.5 * x * (1 + t)

    @staticmethod
    def backward(ctx, grad_output):
        x, t = ctx.saved_tensors
        du_dx = K * (1 + 3 * 0.044715 * x**2)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du_dx
