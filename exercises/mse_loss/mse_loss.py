"""Exercise: mean squared error with a hand-written backward pass."""

import torch


class MSELoss(torch.autograd.Function):
    """Mean squared error ``loss = mean((pred - target) ** 2)``.

    Shapes:
        pred:   any shape (...), also 0-d; the prediction
        target: the same shape as pred
        loss:   ()  a 0-d tensor, equal to torch.nn.functional.mse_loss(pred, target)

    forward(ctx, pred, target):
        With d = pred - target and n = pred.numel(), return sum(d ** 2) / n.
        Save what backward needs with ``ctx.save_for_backward``.

    backward(ctx, grad_output):
        ``grad_output`` (g) is a 0-d tensor, dL/d(loss). Return ``(grad_pred, grad_target)``,
        each with the shape of pred. Both inputs get a gradient:
            d loss / d pred   =  2 * d / n
            d loss / d target = -2 * d / n
        each times g. The mean divides by the number of elements n, not by the size of
        one dimension.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, pred, target):
        raise NotImplementedError("MSELoss.forward: return mean((pred - target) ** 2) as a 0-d tensor")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("MSELoss.backward: return (grad_pred, grad_target)")
