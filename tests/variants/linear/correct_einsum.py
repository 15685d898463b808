"""CORRECT: forward and all gradients written with torch.einsum."""

import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return torch.einsum("ni,io->no", x, w) + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
        grad_x = torch.einsum("no,io->ni", grad_output, w)
        grad_w = torch.einsum("ni,no->io", x, grad_output)
        grad_b = torch.einsum("no->o", grad_output)
        return grad_x, grad_w, grad_b
