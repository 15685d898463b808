"""BUG: the forward flips the kernel in both axes (a textbook convolution); PyTorch's conv2d is a cross-correlation. Caught by: forward

The backward is consistent with the flipped forward; only the comparison with the reference
sees it (never with a 1 x 1 kernel).
"""

import torch


class Conv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.stride, ctx.padding = stride, padding
        n, _, h, w = x.shape
        weight = weight.flip(2, 3)
        c_out, _, kh, kw = weight.shape
        h_out = (h + 2 * padding - kh) // stride + 1
        w_out = (w + 2 * padding - kw) // stride + 1
        cols = torch.nn.functional.unfold(x, (kh, kw), padding=padding, stride=stride)
        w2 = weight.reshape(c_out, -1)
        out = (w2 @ cols).reshape(n, c_out, h_out, w_out) + bias[:, None, None]
        ctx.save_for_backward(cols, weight)
        ctx.image_size = (h, w)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        stride, padding = ctx.stride, ctx.padding
        cols, weight = ctx.saved_tensors
        c_out, _, kh, kw = weight.shape
        g = grad_output.reshape(grad_output.shape[0], c_out, -1)
        grad_weight = (g @ cols.transpose(1, 2)).sum(dim=0).reshape(weight.shape).flip(2, 3)
        grad_cols = weight.reshape(c_out, -1).T @ g
        grad_x = torch.nn.functional.fold(grad_cols, ctx.image_size, (kh, kw), padding=padding, stride=stride)
        grad_bias = grad_output.sum(dim=(0, 2, 3))
        return grad_x, grad_weight, grad_bias, None, None
