"""CORRECT: Tensor.unfold windows contracted with einsum; backward scatters back with index_add_.

index_add_ sums the gradients of repeated positions (overlapping windows).
"""

import torch

STRIDE = 2
PADDING = 1


class Conv1d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        k = weight.shape[2]
        xp = torch.nn.functional.pad(x, (PADDING, PADDING))
        cols = xp.unfold(2, k, STRIDE)  # (N, C_in, L_out, K): cols[n, i, l, j] = xp[n, i, STRIDE*l + j]
        out = torch.einsum("nilj,oij->nol", cols, weight) + bias[:, None]
        ctx.save_for_backward(cols, weight)
        ctx.length = x.shape[2]
        return out

    @staticmethod
    def backward(ctx, grad_output):
        cols, weight = ctx.saved_tensors
        n, c_in, l_out, k = cols.shape
        grad_weight = torch.einsum("nol,nilj->oij", grad_output, cols)
        grad_cols = torch.einsum("nol,oij->nilj", grad_output, weight)
        positions = STRIDE * torch.arange(l_out, device=cols.device)[:, None] + torch.arange(k, device=cols.device)
        grad_xp = cols.new_zeros(n, c_in, ctx.length + 2 * PADDING)
        grad_xp.index_add_(2, positions.reshape(-1), grad_cols.reshape(n, c_in, l_out * k))
        grad_x = grad_xp[:, :, PADDING:PADDING + ctx.length]
        grad_bias = grad_output.sum(dim=(0, 2))
        return grad_x, grad_weight, grad_bias
