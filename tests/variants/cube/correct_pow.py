"""CORRECT: forward x.pow(3), backward grad_output * 3 * x.pow(2) (differentiable, double backward works)."""

import torch


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.pow(3)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x.pow(2)
