"""BUG: tanh written as (exp(2a) - 1) / (exp(2a) + 1): exp overflows for large pre-activations and gives inf / inf = nan. Caught by: edge_cases"""

import torch


class RNNCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h, W_ih, W_hh, b_ih, b_hh):
        e = torch.exp(2 * (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh))
        h_next = (e - 1) / (e + 1)
        ctx.save_for_backward(x, h, W_ih, W_hh, h_next)
        return h_next

    @staticmethod
    def backward(ctx, grad_output):
        x, h, W_ih, W_hh, h_next = ctx.saved_tensors
        da = grad_output * (1 - h_next**2)
        return da @ W_ih, da @ W_hh, da.T @ x, da.T @ h, da.sum(0), da.sum(0)
