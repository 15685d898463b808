"""BUG: the ReLU mask in backward is a >= 0, so relu'(0) = 1 where the exercise (and PyTorch) says 0. Caught by: edge_cases (W1, b1)"""

import torch


class MLPLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, W1, b1, W2, b2, y):
        a = torch.addmm(b1, x, W1.t())
        r = torch.where(a > 0, a, torch.zeros_like(a))
        z = torch.addmm(b2, r, W2.t())
        one_hot = (y.unsqueeze(1) == torch.arange(z.shape[1], device=y.device)).to(z.dtype)
        m = z.max(dim=1, keepdim=True).values
        lse = m.squeeze(1) + torch.log(torch.exp(z - m).sum(dim=1))
        ctx.save_for_backward(x, a, r, W2, z, one_hot)
        return (lse - (z * one_hot).sum(dim=1)).sum() / z.shape[0]

    @staticmethod
    def backward(ctx, grad_output):
        x, a, r, W2, z, one_hot = ctx.saved_tensors
        e = torch.exp(z - z.max(dim=1, keepdim=True).values)
        p = e / e.sum(dim=1, keepdim=True)
        dz = (p - one_hot) * grad_output / z.shape[0]
        dr = dz @ W2
        da = torch.where(a >= 0, dr, torch.zeros_like(dr))
        return None, da.t() @ x, da.sum(0), dz.t() @ r, dz.sum(0), None
