"""CORRECT: keeps its output as ctx.softmax (an attribute named like the forbidden function) and reads it back in backward; CS231n's `from builtins import range` on top."""
from builtins import range

import torch


class Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        shifted = x - x.max(dim=-1, keepdim=True).values
        exps = torch.exp(shifted)
        ctx.softmax = exps / exps.sum(dim=-1, keepdim=True)
        return ctx.softmax.clone()

    @staticmethod
    def backward(ctx, grad_output):
        s = ctx.softmax
        dot = (grad_output * s).sum(dim=-1, keepdim=True)
        return s * (grad_output - dot)
