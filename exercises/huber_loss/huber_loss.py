"""Exercise: the Huber loss (delta = 1) with a hand-written backward pass."""

import torch


class HuberLoss(torch.autograd.Function):
    """Mean Huber loss with delta = 1 between a prediction pred and an integer-valued target.

    Shapes:
        pred:   any shape (...), also 0-d; the prediction, floating point
        target: the same shape as pred; int64 values (data: no gradient). Cast it to
                pred's dtype before computing with it: ``target.to(pred.dtype)``.
        loss:   ()  a 0-d tensor, equal to
                torch.nn.functional.huber_loss(pred, target.to(pred.dtype), delta=1.0)

    forward(ctx, pred, target):
        With d = pred - target and n = pred.numel(), each element's loss is
            0.5 * d ** 2     where |d| <= 1   (quadratic near the target)
            |d| - 0.5        where |d| >  1   (linear far from it: outliers count less)
        and the result is their mean (sum / n). The two branches meet with the same value
        and slope at |d| = 1. torch.where(condition, a, b) picks elementwise.

    backward(ctx, grad_output):
        ``grad_output`` (g) is a 0-d tensor, dL/d(loss). Return ``(grad_pred, None)``:
        grad_pred has the shape of pred, and
            d loss / d pred = d / n         where |d| <= 1
                              sign(d) / n   where |d| >  1,
        that is clamp(d, -1, 1) / n, times g. target is data and gets no gradient.

    Do not call torch.autograd, ``.backward()`` or torch.func inside backward.
    Do not hard-code a dtype or device.
    """

    @staticmethod
    def forward(ctx, pred, target):
        raise NotImplementedError("HuberLoss.forward: return the mean Huber loss (delta = 1) as a 0-d tensor")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("HuberLoss.backward: return (grad_pred, None)")
