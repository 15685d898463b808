"""CORRECT: pads x itself, im2col without padding, tensordot; backward folds to the padded size and crops.
"""

import torch


class Conv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        ctx.stride, ctx.padding = stride, padding
        n, _, h, w = x.shape
        c_out, _, kh, kw = weight.shape
        h_out = (h + 2 * padding - kh) // stride + 1
        w_out = (w + 2 * padding - kw) // stride + 1
        xp = torch.nn.functional.pad(x, (padding, padding, padding, padding))
        cols = torch.nn.functional.unfold(xp, (kh, kw), stride=stride)  # (N, C_in*KH*KW, H_out*W_out)
        out = torch.tensordot(weight.flatten(1), cols, dims=([1], [1]))  # (C_out, N, H_out*W_out)
        out = out.transpose(0, 1).reshape(n, c_out, h_out, w_out) + bias.reshape(1, c_out, 1, 1)
        ctx.save_for_backward(cols, weight)
        ctx.padded_size = tuple(xp.shape[2:])
        return out

    @staticmethod
    def backward(ctx, grad_output):
        stride, padding = ctx.stride, ctx.padding
        cols, weight = ctx.saved_tensors
        c_out, _, kh, kw = weight.shape
        g = grad_output.flatten(2)  # (N, C_out, H_out*W_out)
        grad_weight = torch.tensordot(g, cols, dims=([0, 2], [0, 2])).reshape(weight.shape)
        grad_cols = torch.tensordot(weight.flatten(1), g, dims=([0], [1]))  # (C_in*KH*KW, N, H_out*W_out)
        grad_cols = grad_cols.transpose(0, 1)  # (N, C_in*KH*KW, H_out*W_out)
        grad_xp = torch.nn.functional.fold(grad_cols, ctx.padded_size, (kh, kw), stride=stride)
        h, w = ctx.padded_size[0] - 2 * padding, ctx.padded_size[1] - 2 * padding
        grad_x = grad_xp[:, :, padding:padding + h, padding:padding + w]
        grad_bias = g.sum(dim=(0, 2))
        return grad_x, grad_weight, grad_bias, None, None
