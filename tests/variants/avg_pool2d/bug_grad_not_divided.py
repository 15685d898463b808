"""BUG: backward passes grad_output to the four window elements without the factor 1/4. Caught by: backward (x)
"""

import torch


class AvgPool2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        n, c, h, w = x.shape
        h_out, w_out = h // 2, w // 2
        blocks = x[:, :, :2 * h_out, :2 * w_out].reshape(n, c, h_out, 2, w_out, 2)
        ctx.input_shape = x.shape
        return blocks.mean(dim=(3, 5))

    @staticmethod
    def backward(ctx, grad_output):
        n, c, h, w = ctx.input_shape
        h_out, w_out = grad_output.shape[2], grad_output.shape[3]
        quarter = grad_output[:, :, :, None, :, None].expand(n, c, h_out, 2, w_out, 2)
        grad_x = grad_output.new_zeros(n, c, h, w)
        grad_x[:, :, :2 * h_out, :2 * w_out] = quarter.reshape(n, c, 2 * h_out, 2 * w_out)
        return grad_x
