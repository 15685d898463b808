"""BUG: the constant sqrt(2 * pi) where sqrt(2 / pi) belongs, in forward and (consistently) in backward. Caught by: forward

The backward is the right derivative of the student's own forward, so the finite
differences agree; the values differ from the reference.
"""

import math

import torch

K = math.sqrt(2 * math.pi)


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
        return grad_output * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du_dx)
