"""BUG: treats the leading x as a constant: backward returns grad_output * 0.5 * (1 + t), dropping 0.5 * x * dt/dx. Caught by: backward (x)"""

import math

import torch

K = math.sqrt(2 / math.pi)


class GeluTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        t = torch.tanh(K * (x + 0.044715 * x**3))
        ctx.save_for_backward(t)
        return 0.5 * x * (1 + t)

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * 0.5 * (1 + t)
