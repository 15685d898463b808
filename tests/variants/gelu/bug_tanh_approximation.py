"""BUG: implements the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3))) where the exact erf form is asked. Caught by: forward

The approximation is within about 1e-3 of the exact GELU: far outside the tolerance.
Its backward is the right derivative of the approximation.
"""

import math

import torch

C = math.sqrt(2 / math.pi)


class Gelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * x * (1 + torch.tanh(C * (x + 0.044715 * x**3)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        t = torch.tanh(C * (x + 0.044715 * x**3))
        dt = (1 - t * t) * C * (1 + 3 * 0.044715 * x * x)
        return grad_output * (0.5 * (1 + t) + 0.5 * x * dt)
