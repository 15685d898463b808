"""BUG: grad_w computed as grad_output.T @ x, the transpose of dL/dw. Caught by: backward (w)

It has shape (D_out, D_in): autograd rejects the shape when D_in != D_out, and the
values are wrong when D_in == D_out.
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
        grad_x = grad_output @ w.T
        grad_w = grad_output.T @ x
        grad_b = grad_output.sum(dim=0)
        return grad_x, grad_w, grad_b
