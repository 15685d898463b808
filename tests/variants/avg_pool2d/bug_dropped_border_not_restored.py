"""BUG: backward returns the upsampled gradient of shape (N, C, 2 * (H // 2), 2 * (W // 2)), without the zero row or column an odd H or W dropped. Caught by: backward (x)
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
        up = grad_output.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3) / 4
        return up
