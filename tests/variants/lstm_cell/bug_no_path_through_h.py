"""BUG: dc' takes only the direct dL/dc' and forgets that h' = o * tanh(c') also depends on c'. Caught by: backward (c, x)"""

import torch


class LSTMCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h, c, W_ih, W_hh, b_ih, b_hh):
        a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        i, f, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.sigmoid(a_o)
        g = torch.tanh(a_g)
        c_next = f * c + i * g
        tanh_c = torch.tanh(c_next)
        ctx.save_for_backward(x, h, c, W_ih, W_hh, i, f, g, o, tanh_c)
        return o * tanh_c, c_next

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        x, h, c, W_ih, W_hh, i, f, g, o, tanh_c = ctx.saved_tensors
        dh, dc_direct = grad_h, grad_c
        dc = dc_direct
        da = torch.cat([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                        dh * tanh_c * o * (1 - o)], dim=1)
        return da @ W_ih, da @ W_hh, dc * f, da.T @ x, da.T @ h, da.sum(0), da.sum(0)
