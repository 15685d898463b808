"""Exercise: inverted dropout with a given keep mask and a hand-written backward pass."""

import torch


class Dropout(torch.autograd.Function):
    """Inverted dropout in training mode, with drop probability p and the mask given.

    Dropout zeroes each element with probability p and scales the kept ones by 1 / (1 - p),
    so that the expected output is x. Here the random part is done for you: ``mask`` says
    which elements are kept (1) and which are dropped (0), so the result is deterministic.

    Shapes:
        x: any shape (..., )      the input
        mask: the shape of x      int64, each element 0 (dropped) or 1 (kept)
        p: a Python float         the drop probability, 0 < p < 1
        out: the shape of x       out = x * mask / (1 - p), a floating tensor of x's dtype

    forward(ctx, x, mask, p):
        Return x * mask / (1 - p) (not torch.nn.functional.dropout).
        The result must have x's dtype (mask is an integer tensor). Do not modify x or mask.

    backward(ctx, grad_output):
        ``grad_output`` has the shape of x. Return ``(grad_x, None, None)``: the mask is a constant,
        so d out / d x = mask / (1 - p) elementwise and

            grad_x = grad_output * mask / (1 - p)

        mask (integers) and p (a float) get no gradient.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, mask, p):
        # BEGIN SOLUTION: Dropout.forward: return x * mask / (1 - p)
        scale = mask.to(x.dtype) / (1 - p)
        ctx.save_for_backward(scale)
        return x * scale
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: Dropout.backward: return (grad_x, None, None)
        (scale,) = ctx.saved_tensors
        return grad_output * scale, None, None
        # END SOLUTION
