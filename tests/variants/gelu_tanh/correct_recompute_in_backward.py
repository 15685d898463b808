"""CORRECT: saves only x and recomputes u and tanh(u) in backward, expanding the derivative term by term."""

import math

import torch


class GeluTanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * torch.pow(x, 3))
        return 0.5 * x + 0.5 * x * torch.tanh(inner)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        c = math.sqrt(2 / math.pi)
        t = torch.tanh(c * (x + 0.044715 * torch.pow(x, 3)))
        sech2 = 1 - t.square()
        dinner = c + 3 * c * 0.044715 * x.square()
        return grad_output * 0.5 + grad_output * 0.5 * t + grad_output * 0.5 * x * sech2 * dinner
