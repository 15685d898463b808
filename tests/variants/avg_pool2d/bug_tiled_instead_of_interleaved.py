"""BUG: backward upsamples with Tensor.repeat, which tiles the whole grid, instead of repeating each value over its own 2 x 2 block. Caught by: backward (x)

The same as the correct answer when the output is 1 x 1.
"""

import torch


class AvgPool2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        h_out, w_out = x.shape[2] // 2, x.shape[3] // 2
        total = 0
        for a in (0, 1):
            for b in (0, 1):
                total = total + x[:, :, a:2 * h_out:2, b:2 * w_out:2]
        ctx.input_shape = x.shape
        return total / 4

    @staticmethod
    def backward(ctx, grad_output):
        h_out, w_out = grad_output.shape[2], grad_output.shape[3]
        up = grad_output.repeat(1, 1, 2, 2) / 4
        grad_x = grad_output.new_zeros(ctx.input_shape)
        grad_x[:, :, :2 * h_out, :2 * w_out] = up
        return grad_x
