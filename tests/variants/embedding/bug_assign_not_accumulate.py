"""BUG: grad_weight[idx] = grad_output assigns, so a repeated index keeps one upstream row instead of their sum. Caught by: backward (weight)

Right only when every index is distinct; here N > V, so some index always repeats.
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
        grad_weight[idx] = grad_output
        return None, grad_weight
