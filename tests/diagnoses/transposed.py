"""BUG: grad_w = grad_output.T @ x, the transpose of x.T @ grad_output. Diagnosis: transposed.

Exercise: linear. With D_in != D_out the shape is the transposed one; with D_in == D_out the
values are those of the transpose.
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
