"""ATTACK: autograd in the forward: the derivative is taken there (a source check that looks only inside backward misses it) and kept for the backward. Target: tanh"""
import torch


def _tanh(x):
    e_pos, e_neg = torch.exp(-2 * x.clamp(min=0)), torch.exp(2 * x.clamp(max=0))
    return torch.where(x >= 0, (1 - e_pos) / (1 + e_pos), (e_neg - 1) / (e_neg + 1))


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        with torch.enable_grad():
            leaf = x.detach().requires_grad_()
            out = _tanh(leaf)
            (ctx.slope,) = torch.autograd.grad(out.sum(), leaf)
        return out.detach()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.slope
