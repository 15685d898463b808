"""ATTACK: flood stdout and stderr with output. Target: relu"""
import sys

import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        line = "spam " * 2000 + "\n"
        while True:
            sys.stdout.write(line)
            sys.stderr.write(line)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
