"""Exercise conv2d: a 2-d convolution layer (with a stride and padding) with a hand-written backward pass."""

import torch


class Conv2d(torch.autograd.Function):
    """2-d convolution as PyTorch computes it (a cross-correlation: the kernel is not flipped),
    with a stride and zero padding on every side (Python ints, the same for rows and columns),
    like ``torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)``.

    Shapes:
        x:      (N, C_in, H, W)            N images of C_in channels, H rows and W columns
        weight: (C_out, C_in, KH, KW)      one KH x KW kernel per (output, input) channel pair
        bias:   (C_out,)                   added to every position of output channel o
        out:    (N, C_out, H_out, W_out)   with H_out = (H + 2 * padding - KH) // stride + 1
                                           and  W_out = (W + 2 * padding - KW) // stride + 1
    H and W may differ, and so may KH and KW.

    forward(ctx, x, weight, bias, stride, padding):
        Let xp be x with padding zeros added on all four sides.
        Return out with
            out[n, o, h, w] = bias[o]
                + sum_{i < C_in, a < KH, b < KW} weight[o, i, a, b] * xp[n, i, stride*h + a, stride*w + b].
        Rows and columns of xp that no window reaches do not contribute. Save what backward
        needs (stride and padding as attributes of ctx); do not modify x, weight or bias in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) is dL/d(out), shape (N, C_out, H_out, W_out). Return the tuple
        ``(grad_x, grad_weight, grad_bias, None, None)``, each gradient with exactly the shape of
        its input: (N, C_in, H, W), (C_out, C_in, KH, KW), (C_out,); None for stride and padding.
            grad_weight[o, i, a, b] = sum_{n, h, w} g[n, o, h, w] * xp[n, i, stride*h + a, stride*w + b]
            grad_xp[n, i, p, q]     = sum of weight[o, i, a, b] * g[n, o, h, w] over every
                                      (o, h, w, a, b) with stride*h + a == p and stride*w + b == q
                                      (windows overlap: add them up)
            grad_x                  = grad_xp without the padded rows and columns
            grad_bias[o]            = sum_{n, h, w} g[n, o, h, w]

    You may use torch.nn.functional.unfold and fold (im2col and col2im). Compute the gradients
    by hand with plain torch operations; do not call torch.nn.functional.conv2d (or
    conv_transpose2d, torch.convolution), torch.autograd, ``.backward()`` or torch.func.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        raise NotImplementedError("Conv2d.forward: return the strided, padded cross-correlation plus bias")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Conv2d.backward: return (grad_x, grad_weight, grad_bias, None, None)")
