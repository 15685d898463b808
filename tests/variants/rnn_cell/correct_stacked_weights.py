"""CORRECT: one matrix product on [x, h] with the stacked weights [W_ih, W_hh], split again in backward; tanh' as 1 / cosh(a)**2."""

import torch


class RNNCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h, W_ih, W_hh, b_ih, b_hh):
        xh = torch.cat([x, h], dim=1)
        W = torch.cat([W_ih, W_hh], dim=1)  # (H, D + H)
        a = xh @ W.T + (b_ih + b_hh)
        ctx.save_for_backward(xh, W, a)
        ctx.D = x.shape[1]
        return torch.tanh(a)

    @staticmethod
    def backward(ctx, grad_output):
        xh, W, a = ctx.saved_tensors
        D = ctx.D
        # 1 / cosh(a)**2 is tanh'(a); cosh overflows to inf for |a| > ~710 and 1 / inf**2 = 0, as it should.
        da = grad_output / torch.cosh(a) ** 2
        grad_xh = da @ W
        grad_W = torch.einsum("nh,nk->hk", da, xh)
        grad_b = da.sum(dim=0)
        return grad_xh[:, :D], grad_xh[:, D:], grad_W[:, :D], grad_W[:, D:], grad_b, grad_b
