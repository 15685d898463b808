"""CORRECT: uses 0.5 * (1 + tanh(u)) = sigmoid(2u), so gelu(x) = x * sigmoid(2u) and d/dx = s + 2 x s (1 - s) du/dx.

torch.sigmoid is stable for any u, and 1 - s is exactly 0 where s saturates.
"""

import math

import torch

K = math.sqrt(2 / math.pi)
A = 0.044715


class GeluTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(2 * K * (x + A * x * x * x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        du_dx = K * (1 + 3 * A * x * x)
        return grad_output * (s + 2 * x * s * (1 - s) * du_dx)
