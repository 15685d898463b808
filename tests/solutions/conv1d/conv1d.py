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
        # BEGIN SOLUTION: Conv1d.forward: return the strided, padded cross-correlation plus bias
        ctx.stride, ctx.padding = stride, padding
        c_out, c_in, k = weight.shape
        xp = torch.nn.functional.pad(x, (padding, padding))
        # cols[n, l, (i, j)] = xp[n, i, stride * l + j]: the window of output position l, flattened
        # over (input channel, tap), so that the convolution is one matrix product (im2col).
        cols = xp.unfold(2, k, stride).transpose(1, 2).reshape(x.shape[0], -1, c_in * k)  # (N, L_out, C_in*K)
        w2 = weight.reshape(c_out, c_in * k)
        out = (cols @ w2.T).transpose(1, 2) + bias[:, None]  # (N, C_out, L_out)
        ctx.save_for_backward(cols, weight)
        ctx.length = x.shape[2]
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: Conv1d.backward: return (grad_x, grad_weight, grad_bias, None, None)
        stride, padding = ctx.stride, ctx.padding
        cols, weight = ctx.saved_tensors
        c_out, c_in, k = weight.shape
        n, l_out, _ = cols.shape
        g = grad_output.transpose(1, 2)  # (N, L_out, C_out)
        # out = cols @ w2.T: the two gradients of a matrix product, summed over the batch.
        grad_weight = (g.reshape(-1, c_out).T @ cols.reshape(-1, c_in * k)).reshape(c_out, c_in, k)
        grad_cols = (g @ weight.reshape(c_out, c_in * k)).reshape(n, l_out, c_in, k)
        # Window element (l, j) came from position stride * l + j of xp; overlapping windows share
        # positions, so their gradients add up (index_add_ accumulates repeated indices).
        positions = stride * torch.arange(l_out, device=cols.device)[:, None] + torch.arange(k, device=cols.device)
        grad_xp = cols.new_zeros(n, c_in, ctx.length + 2 * padding)
        grad_xp.index_add_(2, positions.reshape(-1), grad_cols.transpose(1, 2).reshape(n, c_in, l_out * k))
        grad_x = grad_xp[:, :, padding:padding + ctx.length]
        grad_bias = grad_output.sum(dim=(0, 2))
        return grad_x, grad_weight, grad_bias, None, None
        # END SOLUTION
