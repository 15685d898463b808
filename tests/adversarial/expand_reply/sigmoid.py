"""ATTACK: answer forward with a cheap expand() of one number to a gigabyte, so that the grader, not the worker, runs out of memory. Target: sigmoid"""
import torch


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.zeros((), dtype=x.dtype).expand(((1 << 30) // x.element_size()) - 64)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
