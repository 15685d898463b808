"""ATTACK: right for every random grad_output and wrong for the all-ones one that loss.backward() passes. Target: relu"""
import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        if bool((grad_output == 1).all()):
            return grad_output  # wherever x <= 0 this should be 0
        return grad_output * (x > 0)
