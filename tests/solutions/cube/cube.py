"""Exercise: x ** 3 with a backward pass that can itself be differentiated."""

import torch


class Cube(torch.autograd.Function):
    """Elementwise ``x ** 3``; x may have any shape.

    forward(ctx, x):
        Return x ** 3 and save x with ``ctx.save_for_backward``.

    backward(ctx, grad_output):
        Return dL/dx = grad_output * 3 * x ** 2, using the saved x.

    This exercise also checks the second derivative (double backward): write the
    backward with ordinary differentiable torch operations on the saved tensor and
    grad_output. Do not detach, do not call ``.item()`` or ``.numpy()``, and do not call
    torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION: Cube.forward: return x ** 3
        ctx.save_for_backward(x)
        return x**3
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: Cube.backward: return grad_output * 3 * x ** 2
        (x,) = ctx.saved_tensors
        # Built from differentiable ops on the saved input, so double backward works.
        return grad_output * 3 * x**2
        # END SOLUTION
