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
        raise NotImplementedError("MaxPool2d.forward: return the maximum of every 2 x 2 window")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("MaxPool2d.backward: return dL/dx")
