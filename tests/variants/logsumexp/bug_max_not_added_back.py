"""BUG: subtracts the row max before exp but forgets to add it back: log(sum(exp(x - m))). Caught by: forward"""

import torch


class LogSumExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        m = x.amax(dim=-1, keepdim=True)
        e = torch.exp(x - m)
        s = e / e.sum(dim=-1, keepdim=True)
        ctx.save_for_backward(s)
        return torch.log(e.sum(dim=-1))

    @staticmethod
    def backward(ctx, grad_output):
        (s,) = ctx.saved_tensors
        return grad_output.unsqueeze(-1) * s
