"""BUG: multiplies grad_output (...) by the softmax (..., C) without unsqueeze(-1): wrong broadcast. Caught by: backward (x)

Identical to the correct backward for a 1-d x (0-d grad_output); with a batch dimension the
shapes either fail to broadcast or line grad_output up with the last dimension.
"""

import torch


class LogSumExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        m = x.amax(dim=-1, keepdim=True)
        out = (m + torch.log(torch.exp(x - m).sum(dim=-1, keepdim=True))).squeeze(-1)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        softmax = torch.exp(x - out.unsqueeze(-1))
        return grad_output * softmax
