"""BUG: backward assigns each tap's gradient (=) instead of adding it (+=), so where windows overlap (K = 3) one tap's gradient is lost. Caught by: backward (x)

Windows overlap only when K > stride: with K <= stride every position belongs to one window.
"""

import torch


class Conv1d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.stride, ctx.padding = stride, padding
        k = weight.shape[2]
        l_out = (x.shape[2] + 2 * padding - k) // stride + 1
        xp = torch.nn.functional.pad(x, (padding, padding))
        out = bias[:, None]
        for j in range(k):
            taps = xp[:, :, j:j + stride * (l_out - 1) + 1:stride]  # (N, C_in, L_out)
            out = out + torch.einsum("oi,nil->nol", weight[:, :, j], taps)
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        stride, padding = ctx.stride, ctx.padding
        x, weight = ctx.saved_tensors
        k = weight.shape[2]
        l_out = grad_output.shape[2]
        xp = torch.nn.functional.pad(x, (padding, padding))
        grad_xp = torch.zeros_like(xp)
        grad_weight = torch.zeros_like(weight)
        for j in range(k):
            positions = slice(j, j + stride * (l_out - 1) + 1, stride)
            grad_xp[:, :, positions] = torch.einsum("oi,nol->nil", weight[:, :, j], grad_output)
            grad_weight[:, :, j] = torch.einsum("nol,nil->oi", grad_output, xp[:, :, positions])
        grad_x = grad_xp[:, :, padding:padding + x.shape[2]]
        grad_bias = grad_output.sum(dim=(0, 2))
        return grad_x, grad_weight, grad_bias, None, None
