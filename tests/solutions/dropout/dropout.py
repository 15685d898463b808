"""Exercise: inverted dropout with a given keep mask and a hand-written backward pass."""

import torch


class Dropout(torch.autograd.Function):
    """Inverted dropout in training mode, with drop probability p = 0.5 and the mask given.

    Dropout zeroes each element with probability p and scales the kept ones by 1 / (1 - p),
    so that the expected output is x. Here the random part is done for you: ``mask`` says
    which elements are kept (1) and which are dropped (0), so the result is deterministic.

    Shapes:
        x: any shape (..., )      the input
        mask: the shape of x      int64, each element 0 (dropped) or 1 (kept)
        out: the shape of x       out = x * mask / (1 - p), a floating tensor of x's dtype

    forward(ctx, x, mask):
        Return x * mask / (1 - p) with p = Dropout.p (not torch.nn.functional.dropout).
        The result must have x's dtype (mask is an integer tensor). Do not modify x or mask.

    backward(ctx, grad_output):
        ``grad_output`` has the shape of x. Return ``(grad_x, None)``: the mask is a constant,
        so d out / d x = mask / (1 - p) elementwise and

            grad_x = grad_output * mask / (1 - p)

        mask holds integers and gets no gradient.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    p = 0.5  # drop probability

    @staticmethod
    def forward(ctx, x, mask):
        # BEGIN SOLUTION: Dropout.forward: return x * mask / (1 - p)
        scale = mask.to(x.dtype) / (1 - Dropout.p)
        ctx.save_for_backward(scale)
        return x * scale
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: Dropout.backward: return (grad_x, None)
        (scale,) = ctx.saved_tensors
        return grad_output * scale, None
        # END SOLUTION
