"""Exercise max_pool2d: 2 x 2 max pooling with stride 2, with a hand-written backward pass."""

import torch


class MaxPool2d(torch.autograd.Function):
    """2 x 2 max pooling with stride 2, like ``torch.nn.functional.max_pool2d(x, kernel_size=2,
    stride=2)``.

    Shapes:
        x:   (N, C, H, W)                 H, W >= 2, even or odd
        out: (N, C, H // 2, W // 2)

    forward(ctx, x):
        Return out with
            out[n, c, h, w] = max(x[n, c, 2h, 2w],     x[n, c, 2h, 2w + 1],
                                  x[n, c, 2h + 1, 2w], x[n, c, 2h + 1, 2w + 1]).
        The windows do not overlap. When H (or W) is odd, the last row (or column) belongs to no
        window and is dropped, as PyTorch does by default (ceil_mode=False). Save what backward
        needs (for instance where each window's maximum is); do not modify x in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) is dL/d(out), shape (N, C, H // 2, W // 2). Return dL/dx, shape
        (N, C, H, W): each window's maximum receives g[n, c, h, w] (the derivative of a max is 1
        for the largest value and 0 for the others); every other element, and a dropped row or
        column, receives 0. The grader's inputs never have two equal values in a window.

    Do not call torch.nn.functional.max_pool2d (or its variants), torch.autograd,
    ``.backward()`` or torch.func. Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION: MaxPool2d.forward: return the maximum of every 2 x 2 window
        n, c, h, w = x.shape
        h_out, w_out = h // 2, w // 2
        # Drop a last odd row/column, then put each window's 4 values on a last axis:
        # windows[n, c, i, j, 2a + b] = x[n, c, 2i + a, 2j + b].
        windows = x[:, :, :2 * h_out, :2 * w_out].reshape(n, c, h_out, 2, w_out, 2)
        windows = windows.transpose(3, 4).reshape(n, c, h_out, w_out, 4)
        out, where = windows.max(dim=-1)
        ctx.save_for_backward(where)
        ctx.input_shape = x.shape
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: MaxPool2d.backward: return dL/dx
        (where,) = ctx.saved_tensors
        n, c, h, w = ctx.input_shape
        h_out, w_out = where.shape[2], where.shape[3]
        # grad_output goes to the maximum of its window (index `where` among the 4), 0 elsewhere.
        grad_windows = grad_output.new_zeros(n, c, h_out, w_out, 4)
        grad_windows.scatter_(-1, where.unsqueeze(-1), grad_output.unsqueeze(-1))
        # Undo the window layout: (N, C, h_out, w_out, a, b) -> (N, C, h_out, a, w_out, b).
        grad_windows = grad_windows.reshape(n, c, h_out, w_out, 2, 2).transpose(3, 4)
        grad_x = grad_output.new_zeros(n, c, h, w)  # a dropped row or column keeps 0
        grad_x[:, :, :2 * h_out, :2 * w_out] = grad_windows.reshape(n, c, 2 * h_out, 2 * w_out)
        return grad_x
        # END SOLUTION
