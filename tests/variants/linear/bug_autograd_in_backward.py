"""BUG: backward re-runs the forward under torch.enable_grad() and calls torch.autograd.grad. Caught by: backward

The values are correct; only a check that detects autograd use inside backward
(which the exercise forbids) flags it.
"""

import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w, b)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w, b = (t.detach().requires_grad_() for t in ctx.saved_tensors)
        with torch.enable_grad():
            out = x @ w + b
            return torch.autograd.grad(out, (x, w, b), grad_output)
