"""BUG: the one-hot of the targets in backward has 4 columns, the class count of the exercise when C was fixed, instead of z.shape[1]. Caught by: backward

Right only when C == 4.
"""

import torch
import torch.nn.functional as F


class MLPLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, W1, b1, W2, b2, y):
        a = x @ W1.t() + b1
        r = a.clamp(min=0)
        z = r @ W2.t() + b2
        m = z.max(dim=1, keepdim=True).values
        log_p = z - m - (z - m).exp().sum(dim=1, keepdim=True).log()
        ctx.save_for_backward(x, a, r, W2, log_p, y)
        return -log_p[torch.arange(z.shape[0]), y].mean()

    @staticmethod
    def backward(ctx, grad_output):
        x, a, r, W2, log_p, y = ctx.saved_tensors
        dz = (log_p.exp() - F.one_hot(y, 4).to(log_p.dtype)) * grad_output / log_p.shape[0]
        dr = dz @ W2
        da = dr * (a > 0).to(dr.dtype)
        return None, da.t() @ x, da.sum(0), dz.t() @ r, dz.sum(0), None
