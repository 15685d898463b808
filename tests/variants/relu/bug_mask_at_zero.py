"""BUG: the gradient mask is x >= 0, so relu'(0) = 1 where the exercise (and PyTorch) says 0. Caught by: edge_cases (x)

Random inputs keep a margin from 0, where both masks agree; only the edge case at the kink
tells them apart.
"""

import torch


class ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * (x >= 0)
