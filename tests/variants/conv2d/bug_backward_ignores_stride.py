"""BUG: backward adds tap (a, b)'s gradient into consecutive rows and columns of the padded input, as if the stride were 1. Caught by: backward (x)

grad_weight and the forward are right; only grad_x is misplaced, when the output has more
than one row or column.
"""

import torch


class Conv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.stride, ctx.padding = stride, padding
        _, _, h, w = x.shape
        _, _, kh, kw = weight.shape
        h_out = (h + 2 * padding - kh) // stride + 1
        w_out = (w + 2 * padding - kw) // stride + 1
        xp = torch.nn.functional.pad(x, (padding, padding, padding, padding))
        out = bias[:, None, None]
        for a in range(kh):
            for b in range(kw):
                taps = xp[:, :, a:a + stride * (h_out - 1) + 1:stride, b:b + stride * (w_out - 1) + 1:stride]
                out = out + torch.einsum("oi,nihw->nohw", weight[:, :, a, b], taps)
        ctx.save_for_backward(x, weight)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        stride, padding = ctx.stride, ctx.padding
        x, weight = ctx.saved_tensors
        _, _, kh, kw = weight.shape
        _, _, h_out, w_out = grad_output.shape
        xp = torch.nn.functional.pad(x, (padding, padding, padding, padding))
        grad_xp = torch.zeros_like(xp)
        grad_weight = torch.zeros_like(weight)
        for a in range(kh):
            for b in range(kw):
                rows = slice(a, a + stride * (h_out - 1) + 1, stride)
                columns = slice(b, b + stride * (w_out - 1) + 1, stride)
                grad_xp[:, :, a:a + h_out, b:b + w_out] += torch.einsum("oi,nohw->nihw", weight[:, :, a, b], grad_output)
                grad_weight[:, :, a, b] = torch.einsum("nohw,nihw->oi", grad_output, xp[:, :, rows, columns])
        grad_x = grad_xp[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]]
        grad_bias = grad_output.sum(dim=(0, 2, 3))
        return grad_x, grad_weight, grad_bias, None, None
