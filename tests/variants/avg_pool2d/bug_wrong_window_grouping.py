"""BUG: the forward reshapes (N, C, H, W) straight to (N, C, H/2, W/2, 4), averaging neighbours in memory instead of 2 x 2 blocks. Caught by: forward
"""

import torch


class AvgPool2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        n, c, h, w = x.shape
        h_out, w_out = h // 2, w // 2
        blocks = x[:, :, :2 * h_out, :2 * w_out].reshape(n, c, h_out, w_out, 4)
        ctx.input_shape = x.shape
        return blocks.mean(dim=4)

    @staticmethod
    def backward(ctx, grad_output):
        n, c, h, w = ctx.input_shape
        h_out, w_out = grad_output.shape[2], grad_output.shape[3]
        quarter = (grad_output / 4)[..., None].expand(n, c, h_out, w_out, 4)
        grad_x = grad_output.new_zeros(n, c, h, w)
        grad_x[:, :, :2 * h_out, :2 * w_out] = quarter.reshape(n, c, 2 * h_out, 2 * w_out)
        return grad_x
