"""BUG: backward calls a helper that differentiates the forward with torch.autograd.grad. Caught by: backward

Autograd is forbidden anywhere in the file, helpers included: the source check names the line,
and the run-time watch on the backward call would see it too.
"""

import torch


def _gradients(x, w, b, grad_output):
    with torch.enable_grad():
        leaves = [t.detach().clone().requires_grad_(True) for t in (x, w, b)]
        out = leaves[0] @ leaves[1] + leaves[2]
        return torch.autograd.grad(out, leaves, grad_output)


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w, b)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w, b = ctx.saved_tensors
        return _gradients(x, w, b, grad_output)
