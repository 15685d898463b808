"""BUG: the gradient table has 5 rows, the vocabulary size of the exercise when V was fixed, instead of weight.shape[0]. Caught by: backward

Right only when V == 5; for any other V the gradient has the wrong shape (or index_add_ raises on an index >= 5).
"""

import torch


class Embedding(torch.autograd.Function):
    @staticmethod
    def forward(ctx, idx, weight):
        ctx.save_for_backward(idx)
        return weight[idx]

    @staticmethod
    def backward(ctx, grad_output):
        (idx,) = ctx.saved_tensors
        grad = torch.zeros(5, grad_output.shape[1], dtype=grad_output.dtype, device=grad_output.device)
        return None, grad.index_add_(0, idx, grad_output)
