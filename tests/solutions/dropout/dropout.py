"""Exercise: inverted dropout in training mode, the mask drawn by your forward, with a hand-written backward pass."""

import torch


class Dropout(torch.autograd.Function):
    """Inverted dropout in training mode, with drop probability p.

    Dropout zeroes each element independently with probability p and scales the kept ones by
    1 / (1 - p), so that the expected output is x. Your forward draws the random keep mask; the
    backward must apply exactly that mask (save it).

    Shapes:
        x: any shape (..., )      the input
        p: a Python float         the drop probability, 0 < p < 1
        out: the shape of x       out = x * mask / (1 - p), mask 1 (kept, probability 1 - p) or 0 (dropped)

    forward(ctx, x, p):
        Draw mask (e.g. torch.rand_like(x) >= p) and return x * mask / (1 - p), in x's dtype
        (not torch.nn.functional.dropout). Do not modify x.

    backward(ctx, grad_output):
        ``grad_output`` has the shape of x. Return ``(grad_x, None)``: d out / d x = mask / (1 - p)
        elementwise, with the forward's mask, so

            grad_x = grad_output * mask / (1 - p)

        p (a float) gets no gradient.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, p):
        # BEGIN SOLUTION: Dropout.forward: draw the mask, return x * mask / (1 - p)
        keep = torch.rand_like(x) >= p
        scale = keep.to(x.dtype) / (1 - p)
        ctx.save_for_backward(scale)
        return x * scale
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: Dropout.backward: return (grad_x, None)
        (scale,) = ctx.saved_tensors
        return grad_output * scale, None
        # END SOLUTION
