"""Exercise: batch normalization in training mode, with a hand-written backward pass."""

import torch


class BatchNorm(torch.autograd.Function):
    """Batch normalization of a batch of N examples with D features, in training mode (the
    statistics of this batch), with a learned weight and bias (eps = 1e-5), equal to
    ``torch.nn.functional.batch_norm(x, None, None, weight, bias, training=True, eps=1e-5)``.

    Shapes:
        x: (N, D)       N >= 2 examples (rows) of D features; each column (feature) is
                        normalized with its own mean and variance over the batch (dim 0)
        weight: (D,)    per-feature scale, broadcast over the batch
        bias: (D,)      per-feature shift, broadcast over the batch
        out: (N, D)

    forward(ctx, x, weight, bias):
        Per column, over dim 0 only:
            mu   = mean(x)                         (shape (D,), or (1, D) with keepdim)
            var  = mean((x - mu)**2)               the biased variance (divide by N, not N - 1),
                                                   as PyTorch normalizes in training mode
            rstd = 1 / sqrt(var + eps),  eps = 1e-5
            xhat = (x - mu) * rstd
            out  = xhat * weight + bias
        Compute var from x - mu (two passes): mean(x**2) - mu**2 loses every digit when the
        values are large and close together. Do not modify x, weight or bias in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) has shape (N, D). Return ``(grad_x, grad_weight, grad_bias)`` with
        the shapes (N, D), (D,), (D,):
            grad_bias   = g summed over the batch (dim 0)
            grad_weight = g * xhat summed over the batch (dim 0)
            grad_x      = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * weight,
                          the means over the batch (dim 0): mu and var depend on every
                          example of the batch, which is where the two mean terms come from.

    Compute the gradients by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func inside backward, nor torch's own
    normalizations (batch_norm, layer_norm, instance_norm, group_norm) anywhere.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        raise NotImplementedError("BatchNorm.forward: return xhat * weight + bias, statistics over dim 0")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("BatchNorm.backward: return (grad_x, grad_weight, grad_bias)")
