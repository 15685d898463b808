"""Exercise: the one-layer network of the PyTorch autograd tutorial, by hand."""

import torch


class OneLayerNet(torch.autograd.Function):
    """Loss of a one-layer net with a sigmoid output:

        z = torch.matmul(x, w) + b
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)   (the mean)

    Shapes:
        x: (D_in,)         input, data (no gradient)
        w: (D_in, D_out)   weights
        b: (D_out,)        bias
        y: (D_out,)        targets in [0, 1], data (no gradient)
        loss: 0-d tensor

    forward(ctx, x, w, b, y):
        Return the loss. It must stay finite for large logits |z| (up to ~1000):
        use the stable form max(z, 0) - z * y + log(1 + exp(-|z|)), then the mean.

    backward(ctx, grad_output):
        ``grad_output`` is a 0-d tensor. Return four gradients in input order:
        ``(None, grad_w, grad_b, None)``. With dz = (sigmoid(z) - y) / D_out (times
        grad_output), grad_b = dz and grad_w[i, j] = x[i] * dz[j], shape (D_in, D_out).

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, x, w, b, y):
        # BEGIN SOLUTION: OneLayerNet.forward: return the mean BCE-with-logits loss
        z = torch.matmul(x, w) + b
        ctx.save_for_backward(x, y, z)
        loss = z.clamp(min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
        return loss.mean()
        # END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        # BEGIN SOLUTION: OneLayerNet.backward: return (None, grad_w, grad_b, None)
        x, y, z = ctx.saved_tensors
        grad_z = grad_output * (torch.sigmoid(z) - y) / z.numel()
        grad_w = torch.outer(x, grad_z)
        grad_b = grad_z
        return None, grad_w, grad_b, None
        # END SOLUTION
