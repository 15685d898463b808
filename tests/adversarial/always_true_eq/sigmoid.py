"""ATTACK: return a tensor subclass whose ==, allclose and comparisons always say "equal". Target: sigmoid"""
import torch


class Agreeable(torch.Tensor):
    def __eq__(self, other):
        return torch.ones_like(torch.Tensor(self), dtype=torch.bool)

    def __bool__(self):
        return True


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.zeros_like(x).as_subclass(Agreeable)

    @staticmethod
    def backward(ctx, grad_output):
        return torch.zeros_like(grad_output).as_subclass(Agreeable)
