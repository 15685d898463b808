"""ATTACK: an infinite loop in forward. Target: relu"""
import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        while True:
            pass

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
