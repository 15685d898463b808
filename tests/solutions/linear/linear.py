"""Exercise: a fully connected (linear) layer with a hand-written backward pass."""

import torch


class Linear(torch.autograd.Function):
    """Affine layer ``out = x @ w + b``.

    Shapes:
        x: (N, D_in)      a batch of N input rows
        w: (D_in, D_out)  weights
        b: (D_out,)       bias, broadcast over the batch
        out: (N, D_out)

    forward(ctx, x, w, b):
        Return ``x @ w + b``. Save what backward needs with ``ctx.save_for_backward``.
        Do not modify x, w or b in place.

    backward(ctx, grad_output):
        ``grad_output`` is dL/d(out), shape (N, D_out). Return the tuple
        ``(grad_x, grad_w, grad_b)`` = (dL/dx, dL/dw, dL/db), each with exactly the
        shape of the matching input: (N, D_in), (D_in, D_out), (D_out,).
        Remember that b is added to every row of the batch.

    Compute the gradients by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, w, b):
        # BEGIN SOLUTION: Linear.forward: return x @ w + b
        ctx.save_for_backward(x, w)
        return x @ w + b
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: Linear.backward: return (grad_x, grad_w, grad_b)
        x, w = ctx.saved_tensors
        grad_x = grad_output @ w.T
        grad_w = x.T @ grad_output
        grad_b = grad_output.sum(dim=0)
        return grad_x, grad_w, grad_b
        # END SOLUTION
