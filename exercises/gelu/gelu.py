"""Exercise gelu: the exact GELU, x * Phi(x), with a hand-written backward pass."""

import math

import torch


class Gelu(torch.autograd.Function):
    """Elementwise exact GELU, ``gelu(x) = x * Phi(x)``.

    Phi is the standard normal CDF and phi its density:
        Phi(x) = 0.5 * (1 + erf(x / sqrt(2)))
        phi(x) = exp(-x**2 / 2) / sqrt(2 * pi)

    Shapes:
        x: any shape, including 0-d (a scalar tensor)
        out: the shape of x

    forward(ctx, x):
        Return x * Phi(x), computed yourself with torch.erf (or torch.erfc) and not with
        torch.nn.functional.gelu. This is the exact form, the default approximate='none';
        not the tanh approximation. It must stay finite for |x| up to 1000.
        Save what backward needs with ``ctx.save_for_backward``. Do not modify x in place.

    backward(ctx, grad_output):
        ``grad_output`` is dL/d(out), with the shape of x. Return dL/dx, with the shape
        of x. By the product rule, and since Phi' = phi,
            d gelu(x) / dx = Phi(x) + x * phi(x)
        (chain rule: multiply by grad_output elementwise).

    Compute the gradient by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x):
        raise NotImplementedError("Gelu.forward: return x * Phi(x)")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Gelu.backward: return grad_output * (Phi(x) + x * phi(x))")
