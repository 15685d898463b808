"""CORRECT: one einsum per kernel tap (a, b) on strided slices of the padded input; backward accumulates with +=.
"""

import torch

STRIDE = 2
PADDING = 1


class Conv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        _, _, h, w = x.shape
        _, _, kh, kw = weight.shape
        h_out = (h + 2 * PADDING - kh) // STRIDE + 1
        w_out = (w + 2 * PADDING - kw) // STRIDE + 1
        xp = torch.nn.functional.pad(x, (PADDING, PADDING, PADDING, PADDING))
        out = bias[:, None, None]
        for a in range(kh):
            for b in range(kw):
                taps = xp[:, :, a:a + STRIDE * (h_out - 1) + 1:STRIDE, b:b + STRIDE * (w_out - 1) + 1:STRIDE]
                out = out + torch.einsum("oi,nihw->nohw", weight[:, :, a, b], taps)
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        _, _, kh, kw = weight.shape
        _, _, h_out, w_out = grad_output.shape
        xp = torch.nn.functional.pad(x, (PADDING, PADDING, PADDING, PADDING))
        grad_xp = torch.zeros_like(xp)
        grad_weight = torch.zeros_like(weight)
        for a in range(kh):
            for b in range(kw):
                rows = slice(a, a + STRIDE * (h_out - 1) + 1, STRIDE)
                columns = slice(b, b + STRIDE * (w_out - 1) + 1, STRIDE)
                grad_xp[:, :, rows, columns] += torch.einsum("oi,nohw->nihw", weight[:, :, a, b], grad_output)
                grad_weight[:, :, a, b] = torch.einsum("nohw,nihw->oi", grad_output, xp[:, :, rows, columns])
        grad_x = grad_xp[:, :, PADDING:PADDING + x.shape[2], PADDING:PADDING + x.shape[3]]
        grad_bias = grad_output.sum(dim=(0, 2, 3))
        return grad_x, grad_weight, grad_bias
