"""BUG: backward sends window element (l, j) back to position l + j of the padded input, as if the stride were 1. Caught by: backward (x)

The forward is right (and so is grad_weight); only grad_x goes to the wrong positions, and
only when there are at least two output positions.
"""

import torch


class Conv1d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.stride, ctx.padding = stride, padding
        k = weight.shape[2]
        xp = torch.nn.functional.pad(x, (padding, padding))
        cols = xp.unfold(2, k, stride)  # (N, C_in, L_out, K): cols[n, i, l, j] = xp[n, i, stride*l + j]
        out = torch.einsum("nilj,oij->nol", cols, weight) + bias[:, None]
        ctx.save_for_backward(cols, weight)
        ctx.length = x.shape[2]
        return out

    @staticmethod
    def backward(ctx, grad_output):
        stride, padding = ctx.stride, ctx.padding
        cols, weight = ctx.saved_tensors
        n, c_in, l_out, k = cols.shape
        grad_weight = torch.einsum("nol,nilj->oij", grad_output, cols)
        grad_cols = torch.einsum("nol,oij->nilj", grad_output, weight)
        positions = torch.arange(l_out, device=cols.device)[:, None] + torch.arange(k, device=cols.device)
        grad_xp = cols.new_zeros(n, c_in, ctx.length + 2 * padding)
        grad_xp.index_add_(2, positions.reshape(-1), grad_cols.reshape(n, c_in, l_out * k))
        grad_x = grad_xp[:, :, padding:padding + ctx.length]
        grad_bias = grad_output.sum(dim=(0, 2))
        return grad_x, grad_weight, grad_bias, None, None
