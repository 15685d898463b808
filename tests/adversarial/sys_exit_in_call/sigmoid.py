"""ATTACK: raise SystemExit(0) inside forward. Target: sigmoid"""
import torch


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        raise SystemExit(0)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output
