"""ATTACK: pytest.exit() inside forward, hoping the grader reports no failures. Target: relu"""
import pytest
import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        pytest.exit("all good", returncode=0)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
