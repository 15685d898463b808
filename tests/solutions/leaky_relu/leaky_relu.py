"""Exercise leaky_relu: the leaky rectified linear unit with a hand-written backward pass."""

import torch


class LeakyReLU(torch.autograd.Function):
    """Elementwise leaky ReLU with negative slope 0.01:

        leaky_relu(x) = x         if x > 0
                        0.01 * x  otherwise

    The slope is fixed at 0.01 (PyTorch's default negative_slope); forward takes x only.

    Shapes:
        x: any shape, including 0-d (a scalar tensor)
        out: the shape of x

    forward(ctx, x):
        Return leaky_relu(x) elementwise (not torch.nn.functional.leaky_relu, prelu or
        rrelu). Save what backward needs with ``ctx.save_for_backward``.
        Do not modify x in place.

    backward(ctx, grad_output):
        ``grad_output`` is dL/d(out), with the shape of x. Return dL/dx, with the shape
        of x:
            d leaky_relu(x) / dx = 1     where x > 0
                                   0.01  where x < 0
        times grad_output, elementwise. At x == 0 PyTorch uses 0.01; the checks do not
        test exactly 0.

    Compute the gradient by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION: LeakyReLU.forward: return x where x > 0, else 0.01 * x
        ctx.save_for_backward(x)
        return torch.where(x > 0, x, 0.01 * x)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: LeakyReLU.backward: return dL/dx
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_output, 0.01 * grad_output)
        # END SOLUTION
