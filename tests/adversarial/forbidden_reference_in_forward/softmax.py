"""ATTACK: the forbidden reference function torch.softmax, reached by an alias, in forward. Target: softmax"""
import torch

_reference = torch.special.softmax


class Softmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = _reference(x, dim=-1)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return s * (grad_output - (grad_output * s).sum(dim=-1, keepdim=True))
