"""CORRECT: saves x, picks the stable branch with torch.where on the sign of x, and recomputes tanh stably in backward.

exp() is only ever evaluated on -2|x| <= 0, so nothing overflows, in forward or backward.
"""

import torch


def _stable_tanh(x):
    e = torch.exp(-2 * x.abs())
    pos = (1 - e) / (1 + e)
    return torch.where(x >= 0, pos, -pos)


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _stable_tanh(x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        t = _stable_tanh(x)
        return grad_output - grad_output * t * t
