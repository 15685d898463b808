"""Exercise: layer normalization over the last dimension, with a hand-written backward pass."""

import torch


class LayerNorm(torch.autograd.Function):
    """Layer normalization over the last dimension, with a learned weight and bias (eps = 1e-5),
    equal to ``torch.nn.functional.layer_norm(x, (D,), weight, bias, eps=1e-5)``.

    Shapes:
        x: (..., D)     any number of leading dimensions (none at all included); each
                        row x[..., :] of D values is normalized on its own
        weight: (D,)    per-feature scale, broadcast over every row
        bias: (D,)      per-feature shift, broadcast over every row
        out: (..., D)   the shape of x

    forward(ctx, x, weight, bias):
        For each row, over the last dimension only:
            mu   = mean(x)                         (shape (..., 1) with keepdim)
            var  = mean((x - mu)**2)               the biased variance (divide by D, not D - 1)
            rstd = 1 / sqrt(var + eps),  eps = 1e-5
            xhat = (x - mu) * rstd
            out  = xhat * weight + bias
        Compute var from x - mu (two passes): mean(x**2) - mu**2 loses every digit when the
        values are large and close together. Do not modify x, weight or bias in place.

    backward(ctx, grad_output):
        ``grad_output`` (g) has the shape of x. Return ``(grad_x, grad_weight, grad_bias)``
        with the shapes (..., D), (D,), (D,):
            grad_bias   = g summed over every dimension but the last
            grad_weight = g * xhat summed over every dimension but the last
            grad_x      = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),  gh = g * weight,
                          the means over the last dimension (keepdim): mu and var depend on
                          x, which is where the two mean terms come from.

    Compute the gradients by hand with plain torch operations; do not call
    torch.autograd, ``.backward()`` or torch.func inside backward, nor torch's own
    normalizations (layer_norm, batch_norm, instance_norm, group_norm) anywhere.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        # BEGIN SOLUTION: LayerNorm.forward: return xhat * weight + bias, normalizing over the last dim
        eps = 1e-5
        mu = x.mean(dim=-1, keepdim=True)
        centered = x - mu
        var = (centered * centered).mean(dim=-1, keepdim=True)
        rstd = torch.rsqrt(var + eps)
        xhat = centered * rstd
        ctx.save_for_backward(xhat, rstd, weight)
        return xhat * weight + bias
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: LayerNorm.backward: return (grad_x, grad_weight, grad_bias)
        xhat, rstd, weight = ctx.saved_tensors
        features = xhat.shape[-1]
        # Every dim but the last is a row: weight and bias were broadcast over all of them.
        rows_g = grad_output.reshape(-1, features)
        grad_bias = rows_g.sum(dim=0)
        grad_weight = (rows_g * xhat.reshape(-1, features)).sum(dim=0)
        gh = grad_output * weight
        grad_x = rstd * (gh - gh.mean(dim=-1, keepdim=True)
                         - xhat * (gh * xhat).mean(dim=-1, keepdim=True))
        return grad_x, grad_weight, grad_bias
        # END SOLUTION
