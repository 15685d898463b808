"""BUG: the h' -> c' derivative uses 1 - c'**2 (c' itself) instead of 1 - tanh(c')**2. Caught by: backward (c, x)"""

import torch


class LSTMCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h, c, W_ih, W_hh, b_ih, b_hh):
        a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)
        g = torch.tanh(a_g)
        c_next = f * c + i * g
        ctx.save_for_backward(x, h, c, W_ih, W_hh, i, f, g, o, c_next)
        return o * torch.tanh(c_next), c_next

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        x, h, c, W_ih, W_hh, i, f, g, o, c_next = ctx.saved_tensors
        dh, dc_direct = grad_h, grad_c
        dc = dc_direct + dh * o * (1 - c_next * c_next)
        da = torch.cat([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                        dh * torch.tanh(c_next) * o * (1 - o)], dim=1)
        return da @ W_ih, da @ W_hh, dc * f, da.T @ x, da.T @ h, da.sum(0), da.sum(0)
