"""BUG: backward gives grad_output to all four elements of the window instead of only its maximum. Caught by: backward (x)
"""

import torch


class MaxPool2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        h_out, w_out = x.shape[2] // 2, x.shape[3] // 2
        top_left = x[:, :, 0:2 * h_out:2, 0:2 * w_out:2]
        top_right = x[:, :, 0:2 * h_out:2, 1:2 * w_out:2]
        bottom_left = x[:, :, 1:2 * h_out:2, 0:2 * w_out:2]
        bottom_right = x[:, :, 1:2 * h_out:2, 1:2 * w_out:2]
        out = torch.maximum(torch.maximum(top_left, top_right), torch.maximum(bottom_left, bottom_right))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        x, out = ctx.saved_tensors
        h_out, w_out = out.shape[2], out.shape[3]
        cropped = x[:, :, :2 * h_out, :2 * w_out]
        # Every output repeated over its 2 x 2 window; the window's maximum is where x equals it.
        up_out = out.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        up_grad = grad_output.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        grad_x = torch.zeros_like(x)
        grad_x[:, :, :2 * h_out, :2 * w_out] = up_grad
        return grad_x
