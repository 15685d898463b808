"""Exercise leaky_relu: the leaky rectified linear unit with a hand-written backward pass."""

import torch


class LeakyReLU(torch.autograd.Function):
    """Elementwise leaky ReLU with a negative slope (a Python float, 0 < negative_slope < 1):

        leaky_relu(x) = x                   if x > 0
                        negative_slope * x  otherwise

    Shapes:
        x: any shape, including 0-d (a scalar tensor)
        out: the shape of x

    forward(ctx, x, negative_slope):
        Return leaky_relu(x) elementwise (not torch.nn.functional.leaky_relu, prelu or
        rrelu). Save what backward needs with ``ctx.save_for_backward`` (tensors) and
        as an attribute of ctx (the slope, a float). Do not modify x in place.

    backward(ctx, grad_output):
        ``grad_output`` is dL/d(out), with the shape of x. Return one gradient per
        forward argument: dL/dx, with the shape of x,
            d leaky_relu(x) / dx = 1               where x > 0
                                   negative_slope  where x < 0
        times grad_output, elementwise, and None for negative_slope (not a tensor). At
        x == 0 PyTorch uses negative_slope; the checks do not test exactly 0.

    Compute the gradient by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, negative_slope):
        # BEGIN SOLUTION: LeakyReLU.forward: return x where x > 0, else negative_slope * x
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return torch.where(x > 0, x, negative_slope * x)
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: LeakyReLU.backward: return dL/dx, None
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_output, ctx.negative_slope * grad_output), None
        # END SOLUTION
