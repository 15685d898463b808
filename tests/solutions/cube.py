"""Reference solution for the ``cube`` exercise."""

import torch


class Cube(torch.autograd.Function):
    """Elementwise ``x ** 3`` whose backward is itself differentiable."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # Built from differentiable ops on the saved input, so double backward works.
        return grad_output * 3 * x**2
