"""ATTACK: asks torch's own backward kernel for GELU's gradient, reaching torch.ops through torch.nn.functional's re-export of torch. Target: gelu"""
import math

import torch
import torch.nn.functional as F

_kernel = F.torch.ops.aten.gelu_backward


class Gelu(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return _kernel(grad_output, x)
