"""Exercise: log-softmax over the last dimension with a hand-written backward pass."""

import torch


class LogSoftmax(torch.autograd.Function):
    """``y_i = log(exp(x_i) / sum_j exp(x_j)) = x_i - logsumexp(x)`` over the last dimension.

    Shapes:
        x: (..., C)  any number of leading (batch) dimensions, C >= 1 values per row
        y: (..., C)  the same shape as x; exp(y) sums to 1 along the last dimension

    forward(ctx, x):
        Return the log-softmax of x along dim=-1, without torch.nn.functional.log_softmax
        (or torch.log_softmax) and without torch.logsumexp. It must stay finite and accurate
        for inputs up to +-1000: with m = max_j x_j of each row,
            y_i = (x_i - m) - log(sum_j exp(x_j - m)).
        Do not take the log of a softmax: a probability that underflows to 0 gives -inf.
        Subtract m first, as written: x_i - (m + log(...)) is the same number mathematically,
        but in float32 near 1000 the sum m + log(...) keeps only about 4 decimals.

    backward(ctx, grad_output):
        ``grad_output`` (g) has the shape of x, (..., C). Return dL/dx, shape (..., C).
        With s = exp(y) = softmax(x), the Jacobian of one row is
            dy_i/dx_j = delta_ij - s_j,
        so every output of a row depends on every input of that row:
            dL/dx_j = g_j - s_j * sum_i g_i,
        the sum taken over the last dimension only (keepdim=True to broadcast it back).

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x):
        # BEGIN SOLUTION: LogSoftmax.forward: return a stable log-softmax over dim=-1
        shifted = x - x.amax(dim=-1, keepdim=True)
        y = shifted - torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))
        ctx.save_for_backward(y)
        return y
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: LogSoftmax.backward: return dL/dx, shape (..., C)
        (y,) = ctx.saved_tensors
        # J = I - 1 s^T per row, so J^T g = g - s * sum(g).
        return grad_output - torch.exp(y) * grad_output.sum(dim=-1, keepdim=True)
        # END SOLUTION
