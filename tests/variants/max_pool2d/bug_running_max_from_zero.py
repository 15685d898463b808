"""BUG: starts each window's running max at 0, so a window of negative values gives 0. Caught by: forward

Right whenever a window holds a positive value; the backward routes the gradient nowhere for
such a window, consistently with the forward.
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
        out = torch.zeros_like(top_left)
        for corner in (top_left, top_right, bottom_left, bottom_right):
            out = torch.maximum(out, corner)
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
        grad_x[:, :, :2 * h_out, :2 * w_out] = torch.where(cropped == up_out, up_grad, 0.0)
        return grad_x
