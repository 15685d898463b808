"""Exercise conv1d: a 1-d convolution layer (with a stride and padding) with a hand-written backward pass."""

import torch


class Conv1d(torch.autograd.Function):
    """1-d convolution as PyTorch computes it (a cross-correlation: the kernel is not flipped),
    with a stride and zero padding (Python ints), like ``torch.nn.functional.conv1d(x, weight,
    bias, stride=stride, padding=padding)``.

    Shapes:
        x:      (N, C_in, L)        N sequences of C_in channels and length L
        weight: (C_out, C_in, K)    one kernel of width K per (output, input) channel pair
        bias:   (C_out,)            added to every position of output channel o
        out:    (N, C_out, L_out)   with L_out = (L + 2 * padding - K) // stride + 1
        stride >= 1 and padding >= 0 are ints (drawn by the grader, with L + 2 * padding >= K)

    forward(ctx, x, weight, bias, stride, padding):
        Let xp be x with padding zeros added at both ends of the last dimension.
        Return out with
            out[n, o, l] = bias[o] + sum_{i < C_in, k < K} weight[o, i, k] * xp[n, i, stride * l + k].
        Positions of xp that no window reaches (the stride can skip the last ones) do not
        contribute. Save what backward needs (stride and padding as attributes of ctx); do not
        modify x, weight or bias in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) is dL/d(out), shape (N, C_out, L_out). Return the tuple
        ``(grad_x, grad_weight, grad_bias, None, None)``, each gradient with exactly the shape
        of its input: (N, C_in, L), (C_out, C_in, K), (C_out,); None for stride and padding.
            grad_weight[o, i, k] = sum_{n, l} g[n, o, l] * xp[n, i, stride * l + k]
            grad_xp[n, i, p]     = sum of weight[o, i, k] * g[n, o, l] over every (o, l, k)
                                   with stride * l + k == p (windows overlap: add them up)
            grad_x               = grad_xp without the padded positions
            grad_bias[o]         = sum_{n, l} g[n, o, l]

    Compute the gradients by hand with plain torch operations; do not call
    torch.nn.functional.conv1d (or conv_transpose1d, torch.convolution), torch.autograd,
    ``.backward()`` or torch.func. Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):
        raise NotImplementedError("Conv1d.forward: return the strided, padded cross-correlation plus bias")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Conv1d.backward: return (grad_x, grad_weight, grad_bias, None, None)")
