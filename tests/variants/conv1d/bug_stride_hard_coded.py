"""BUG: the windows step by 2, the stride of the exercise when it was fixed, whatever stride it is given (forward and backward agree). Caught by: forward

Right for stride 2 only: stride 1 and 3 give outputs of another length.
"""

import torch


class Conv1d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.padding = padding
        c_out, c_in, k = weight.shape
        xp = torch.nn.functional.pad(x, (padding, padding))
        # cols[n, l, (i, j)] = xp[n, i, 2 * l + j]: the window of output position l, flattened
        # over (input channel, tap), so that the convolution is one matrix product (im2col).
        cols = xp.unfold(2, k, 2).transpose(1, 2).reshape(x.shape[0], -1, c_in * k)  # (N, L_out, C_in*K)
        w2 = weight.reshape(c_out, c_in * k)
        out = (cols @ w2.T).transpose(1, 2) + bias[:, None]  # (N, C_out, L_out)
        ctx.save_for_backward(cols, weight)
        ctx.length = x.shape[2]
        return out

    @staticmethod
    def backward(ctx, grad_output):
        padding = ctx.padding
        cols, weight = ctx.saved_tensors
        c_out, c_in, k = weight.shape
        n, l_out, _ = cols.shape
        g = grad_output.transpose(1, 2)  # (N, L_out, C_out)
        # out = cols @ w2.T: the two gradients of a matrix product, summed over the batch.
        grad_weight = (g.reshape(-1, c_out).T @ cols.reshape(-1, c_in * k)).reshape(c_out, c_in, k)
        grad_cols = (g @ weight.reshape(c_out, c_in * k)).reshape(n, l_out, c_in, k)
        # Window element (l, j) came from position stride * l + j of xp; overlapping windows share
        # positions, so their gradients add up (index_add_ accumulates repeated indices).
        positions = 2 * torch.arange(l_out, device=cols.device)[:, None] + torch.arange(k, device=cols.device)
        grad_xp = cols.new_zeros(n, c_in, ctx.length + 2 * padding)
        grad_xp.index_add_(2, positions.reshape(-1), grad_cols.transpose(1, 2).reshape(n, c_in, l_out * k))
        grad_x = grad_xp[:, :, padding:padding + ctx.length]
        grad_bias = grad_output.sum(dim=(0, 2))
        return grad_x, grad_weight, grad_bias, None, None
