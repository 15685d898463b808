"""BUG: ignores grad_output and returns the local derivative 1 - t**2. Caught by: backward (x)"""

import torch


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(-2 * x.abs())
        t = torch.sign(x) * (1 - e) / (1 + e)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return 1 - t * t
