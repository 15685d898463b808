"""CORRECT: gates as a (N, 4, H) view, one sigmoid over all four then tanh for g; backward builds da in the same view and uses einsum."""

import torch


class LSTMCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h, c, W_ih, W_hh, b_ih, b_hh):
        N, H = h.shape
        a = (torch.addmm(b_ih, x, W_ih.t()) + torch.addmm(b_hh, h, W_hh.t())).view(N, 4, H)
        s = torch.sigmoid(a)
        g = torch.tanh(a[:, 2])
        c_next = s[:, 1] * c + s[:, 0] * g
        h_next = s[:, 3] * torch.tanh(c_next)
        ctx.save_for_backward(x, h, c, W_ih, W_hh, s, g, c_next)
        return h_next, c_next

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        x, h, c, W_ih, W_hh, s, g, c_next = ctx.saved_tensors
        N, H = h.shape
        dh, dc_direct = grad_h, grad_c
        t = torch.tanh(c_next)
        i, f, o = s[:, 0], s[:, 1], s[:, 3]
        dc = dc_direct + dh * o * (1 - t**2)
        d_gate = torch.stack([dc * g, dc * c, dc * i, dh * t], dim=1)  # dL/d(i, f, g, o)
        local = torch.stack([i * (1 - i), f * (1 - f), 1 - g**2, o * (1 - o)], dim=1)
        da = (d_gate * local).reshape(N, 4 * H)
        grad_b = torch.einsum("ng->g", da)
        return (torch.einsum("ng,gd->nd", da, W_ih), torch.einsum("ng,gk->nk", da, W_hh), dc * f,
                torch.einsum("ng,nd->gd", da, x), torch.einsum("ng,nk->gk", da, h), grad_b, grad_b.clone())
