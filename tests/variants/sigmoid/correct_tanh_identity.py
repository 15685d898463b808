"""CORRECT: uses the identity sigmoid(x) = 0.5 * (1 + tanh(x / 2)), which never overflows."""

import torch


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (1 + torch.tanh(x / 2))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        # d/dx 0.5 * (1 + tanh(x/2)) = 0.25 * (1 - tanh(x/2)**2) = s * (1 - s)
        t = torch.tanh(x / 2)
        return grad_output * 0.25 * (1 - t * t)
