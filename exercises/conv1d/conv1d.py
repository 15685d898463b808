"""Exercise conv1d: a 1-d convolution layer (stride 2, padding 1) with a hand-written backward pass."""

import torch

STRIDE = 2
PADDING = 1


class Conv1d(torch.autograd.Function):
    """1-d convolution as PyTorch computes it (a cross-correlation: the kernel is not flipped),
    with stride 2 and zero padding 1, like ``torch.nn.functional.conv1d(x, weight, bias,
    stride=2, padding=1)``.

    Shapes:
        x:      (N, C_in, L)        N sequences of C_in channels and length L
        weight: (C_out, C_in, K)    one kernel of width K per (output, input) channel pair
        bias:   (C_out,)            added to every position of output channel o
        out:    (N, C_out, L_out)   with L_out = (L + 2 * PADDING - K) // STRIDE + 1

    forward(ctx, x, weight, bias):
        Let xp be x with PADDING zeros added at both ends of the last dimension (length L + 2).
        Return out with
            out[n, o, l] = bias[o] + sum_{i < C_in, k < K} weight[o, i, k] * xp[n, i, STRIDE * l + k].
        Positions of xp that no window reaches (the stride can skip the last ones) do not
        contribute. Save what backward needs; do not modify x, weight or bias in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) is dL/d(out), shape (N, C_out, L_out). Return the tuple
        ``(grad_x, grad_weight, grad_bias)``, each with exactly the shape of its input:
        (N, C_in, L), (C_out, C_in, K), (C_out,).
            grad_weight[o, i, k] = sum_{n, l} g[n, o, l] * xp[n, i, STRIDE * l + k]
            grad_xp[n, i, p]     = sum of weight[o, i, k] * g[n, o, l] over every (o, l, k)
                                   with STRIDE * l + k == p (windows overlap: add them up)
            grad_x               = grad_xp without the padded positions
            grad_bias[o]         = sum_{n, l} g[n, o, l]

    Compute the gradients by hand with plain torch operations; do not call
    torch.nn.functional.conv1d (or conv_transpose1d, torch.convolution), torch.autograd,
    ``.backward()`` or torch.func. Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        raise NotImplementedError("Conv1d.forward: return the strided, padded cross-correlation plus bias")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Conv1d.backward: return (grad_x, grad_weight, grad_bias)")
