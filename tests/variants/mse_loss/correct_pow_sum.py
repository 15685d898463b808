"""CORRECT: forward as torch.sum((pred - target) ** 2) / numel; backward recomputes the difference from both saved inputs."""

import torch


class MSELoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pred, target):
        ctx.save_for_backward(pred, target)
        return torch.sum((pred - target) ** 2) / pred.numel()

    @staticmethod
    def backward(ctx, grad_output):
        pred, target = ctx.saved_tensors
        scale = 2.0 * grad_output / pred.numel()
        return scale * (pred - target), scale * (target - pred)
