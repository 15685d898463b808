"""BUG: returns (c', h') instead of (h', c'), the order torch.nn.LSTMCell returns them in. Caught by: forward

The backward takes its upstream gradients in the same swapped order, so forward and backward agree with
each other; the reference's outputs, compared by name, catch it.
"""

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
        return c_next, o * tanh_c

    @staticmethod
    def backward(ctx, grad_c, grad_h):
        x, h, c, W_ih, W_hh, i, f, g, o, tanh_c = ctx.saved_tensors
        dc = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
        da = torch.cat([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                        grad_h * tanh_c * o * (1 - o)], dim=1)
        return da @ W_ih, da @ W_hh, dc * f, da.T @ x, da.T @ h, da.sum(0), da.sum(0)
