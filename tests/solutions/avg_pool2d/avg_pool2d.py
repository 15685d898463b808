"""Exercise avg_pool2d: 2 x 2 average pooling with stride 2, with a hand-written backward pass."""

import torch


class AvgPool2d(torch.autograd.Function):
    """2 x 2 average pooling with stride 2, like ``torch.nn.functional.avg_pool2d(x,
    kernel_size=2, stride=2)``.

    Shapes:
        x:   (N, C, H, W)                 H, W >= 2, even or odd
        out: (N, C, H // 2, W // 2)

    forward(ctx, x):
        Return out with
            out[n, c, h, w] = (x[n, c, 2h, 2w]     + x[n, c, 2h, 2w + 1]
                             + x[n, c, 2h + 1, 2w] + x[n, c, 2h + 1, 2w + 1]) / 4.
        The windows do not overlap. When H (or W) is odd, the last row (or column) belongs to no
        window and is dropped, as PyTorch does by default (ceil_mode=False). Save what backward
        needs; do not modify x in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) is dL/d(out), shape (N, C, H // 2, W // 2). Return dL/dx, shape
        (N, C, H, W): each of the four elements of window (h, w) receives g[n, c, h, w] / 4; a
        dropped row or column receives 0.

    Do not call torch.nn.functional.avg_pool2d (or adaptive_avg_pool2d), torch.autograd,
    ``.backward()`` or torch.func. Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION: AvgPool2d.forward: return the mean of every 2 x 2 window
        n, c, h, w = x.shape
        h_out, w_out = h // 2, w // 2
        # Drop a last odd row/column; blocks[n, c, i, a, j, b] = x[n, c, 2i + a, 2j + b].
        blocks = x[:, :, :2 * h_out, :2 * w_out].reshape(n, c, h_out, 2, w_out, 2)
        ctx.input_shape = x.shape
        return blocks.mean(dim=(3, 5))
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: AvgPool2d.backward: return dL/dx
        n, c, h, w = ctx.input_shape
        h_out, w_out = grad_output.shape[2], grad_output.shape[3]
        # Each window's four elements get a quarter of its gradient: broadcast g over the two
        # window axes of the (N, C, h_out, 2, w_out, 2) layout, then undo the layout.
        quarter = (grad_output / 4)[:, :, :, None, :, None].expand(n, c, h_out, 2, w_out, 2)
        grad_x = grad_output.new_zeros(n, c, h, w)  # a dropped row or column keeps 0
        grad_x[:, :, :2 * h_out, :2 * w_out] = quarter.reshape(n, c, 2 * h_out, 2 * w_out)
        return grad_x
        # END SOLUTION
