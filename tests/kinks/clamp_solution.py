import torch


class Clamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        inside = (x > -1) & (x < 1)
        ctx.save_for_backward(inside)
        return torch.where(x < -1, -torch.ones_like(x), torch.where(x > 1, torch.ones_like(x), x))

    @staticmethod
    def backward(ctx, grad_output):
        (inside,) = ctx.saved_tensors
        return grad_output * inside
