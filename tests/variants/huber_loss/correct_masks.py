"""CORRECT: both branches weighted by a boolean mask of the band |d| <= 1; saves pred and target and recomputes d in backward."""

import torch


class HuberLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        d = pred - target.to(pred.dtype)
        inside = (d.abs() <= 1).to(d.dtype)
        ctx.save_for_backward(pred, target)
        return (inside * 0.5 * d**2 + (1 - inside) * (d.abs() - 0.5)).mean()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        d = pred - target.to(pred.dtype)
        inside = (d.abs() <= 1).to(d.dtype)
        slope = inside * d + (1 - inside) * torch.sign(d)
        return grad_output * slope / d.numel(), None
