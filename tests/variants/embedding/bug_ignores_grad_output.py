"""BUG: counts the lookups of each row (accumulates ones) instead of accumulating grad_output. Caught by: backward (weight)

Right only for an all-ones grad_output, e.g. out.sum().backward().
"""

import torch


class Embedding(torch.autograd.Function):
    @staticmethod
    def forward(ctx, idx, weight):
        ctx.save_for_backward(idx)
        ctx.weight_shape = weight.shape
        return weight[idx]

    @staticmethod
    def backward(ctx, grad_output):
        (idx,) = ctx.saved_tensors
        grad_weight = grad_output.new_zeros(ctx.weight_shape)
        grad_weight.index_add_(0, idx, torch.ones_like(grad_output))
        return None, grad_weight
