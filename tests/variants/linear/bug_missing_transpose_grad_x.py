"""BUG: missing transpose of w in grad_x (grad_output @ w instead of grad_output @ w.T). Caught by: backward (x)

Only runs when D_in == D_out (wrong values); otherwise the matmul raises a shape error.
"""

import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        grad_x = grad_output @ w
        grad_w = x.T @ grad_output
        grad_b = grad_output.sum(dim=0)
        return grad_x, grad_w, grad_b
