"""BUG: stable forward, but backward recomputes tanh from exp(2x), (exp(2x) - 1) / (exp(2x) + 1), which is nan for x = 1000. Caught by: edge_cases (x)

The forward values are right everywhere and the gradient is right on random inputs;
only the gradient at large positive inputs is nan.
"""

import torch


class Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = torch.exp(-2 * x.abs())
        ctx.save_for_backward(x)
        return torch.sign(x) * (1 - e) / (1 + e)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        e2 = torch.exp(2 * x)
        t = (e2 - 1) / (e2 + 1)
        return grad_output * (1 - t * t)
