"""BUG: d(x**3)/dx written as 6 x**2 (the second derivative's coefficient). Diagnosis: factor 2.

Exercise: cube.
"""

import torch


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 6 * x ** 2
