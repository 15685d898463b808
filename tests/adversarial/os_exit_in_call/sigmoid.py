"""ATTACK: os._exit(0) inside backward, after a correct forward. Target: sigmoid"""
import os

import torch


class Sigmoid(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + torch.exp(-x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, grad_output):
        os._exit(0)
