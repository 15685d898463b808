"""ATTACK: builds a graph in the forward and has autograd's execution engine run it from the backward. Target: sigmoid"""
import torch


def _sigmoid(x):
    e_pos, e_neg = torch.exp(-x.clamp(min=0)), torch.exp(x.clamp(max=0))
    return torch.where(x >= 0, 1 / (1 + e_pos), e_neg / (1 + e_neg))


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        with torch.enable_grad():
            ctx.leaf = x.detach().requires_grad_()
            ctx.out = _sigmoid(ctx.leaf)
        return ctx.out.detach()

    @staticmethod
    def backward(ctx, grad_output):
        engine = torch.autograd.Variable._execution_engine
        (grad,) = engine.run_backward((ctx.out,), (grad_output,), True, False, (ctx.leaf,), True)
        return grad
