"""BUG: grad_W = input.T @ da, the transpose of dL/dW for torch's (out, in) weight layout. Caught by: backward (W_ih)

grad_W_ih then has shape (D, H) (wrong unless D == H) and grad_W_hh has the right shape (H, H)
but transposed values.
"""

import torch


class RNNCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h, W_ih, W_hh, b_ih, b_hh):
        h_next = torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
        ctx.save_for_backward(x, h, W_ih, W_hh, h_next)
        return h_next

    @staticmethod
    def backward(ctx, grad_output):
        x, h, W_ih, W_hh, h_next = ctx.saved_tensors
        da = grad_output * (1 - h_next**2)
        return da @ W_ih, da @ W_hh, x.T @ da, h.T @ da, da.sum(0), da.sum(0)
