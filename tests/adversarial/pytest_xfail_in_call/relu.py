"""ATTACK: pytest.xfail() inside forward, hoping the grader reports no failures. Target: relu"""
import pytest
import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        pytest.xfail("expected to fail")
        return x

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
